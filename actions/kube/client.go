package kube

import (
	"errors"
	"fmt"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config says how to reach the API server: a kubeconfig file, the
// in-cluster service account, or a server URL with a bearer token.
type Config struct {
	Kubeconfig string // a kubeconfig file (its current context)
	InCluster  bool   // the pod's service account
	Server     string // with Token and, for a private CA, CAFile
	Token      string
	CAFile     string
	// QPS and Burst bound the requests to the API server (client-go's
	// defaults, 5 and 10, when 0).
	QPS   float32
	Burst int
}

// Clients are the clients of one API server.
type Clients struct {
	Dynamic dynamic.Interface
}

// Connect builds the clients Config describes.
func Connect(c Config) (Clients, error) {
	rc, err := c.rest()
	if err != nil {
		return Clients{}, err
	}
	rc.QPS, rc.Burst = c.QPS, c.Burst
	rc.UserAgent = "vigil-actions"
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return Clients{}, fmt.Errorf("kubernetes client: %w", err)
	}
	return Clients{Dynamic: dyn}, nil
}

func (c Config) rest() (*rest.Config, error) {
	switch {
	case c.Kubeconfig != "":
		rc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("cannot read kubeconfig %s: %w", c.Kubeconfig, err)
		}
		return rc, nil
	case c.InCluster:
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config: %w", err)
		}
		return rc, nil
	case c.Server != "":
		return &rest.Config{Host: c.Server, BearerToken: c.Token, TLSClientConfig: rest.TLSClientConfig{CAFile: c.CAFile}}, nil
	}
	return nil, errors.New("kubernetes: name a kubeconfig, the in-cluster config, or a server and token")
}
