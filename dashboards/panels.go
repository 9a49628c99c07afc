package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The data sources every dashboard reads, by the uids the provisioning
// files and the pusher give them, chosen through dashboard variables.
const (
	PrometheusUID = "vigil-prometheus"
	JaegerUID     = "vigil-jaeger"
	// DatasourceVar and TracesVar are the variables that pick them.
	DatasourceVar = "datasource"
	TracesVar     = "traces"
	// ManagedTag marks every dashboard Vigil generates.
	ManagedTag = "vigil-managed"
)

var (
	promRef   = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + DatasourceVar + "}")}
	jaegerRef = common.DataSourceRef{Type: ptr(JaegerType), Uid: ptr("${" + TracesVar + "}")}
)

func ptr[T any](v T) *T { return &v }

// panelKind is how a panel draws its data.
type panelKind int

const (
	timeSeries panelKind = iota
	statPanel
	heatmapPanel
	tracesTable // a table of a Jaeger search
)

// target is one PromQL query of a panel.
type target struct {
	expr     string
	legend   string // Grafana's legend format: {{label}} per label
	instant  bool   // a stat's current value, not a range
	heatmap  bool   // buckets for a heatmap
	exemplar bool   // ask for exemplars (Vigil answers the slowest span's trace id)
}

// threshold is a step of a panel's thresholds: from Value (nil: from
// minus infinity) the panel is Color.
type threshold struct {
	value *float64
	color string
}

// panel says what a panel shows; build turns it into the SDK's builder
// with every enum the SDK leaves empty set, since Grafana's schema
// refuses an empty one.
type panel struct {
	kind        panelKind
	title       string
	description string
	unit        string
	width       uint32 // of 24 columns; 0 is 12
	height      uint32 // 0 is 8
	targets     []target
	jaeger      *JaegerQuery
	thresholds  []threshold // drawn as lines on a time series
	min, max    *float64
	stacked     bool
}

func (p panel) size() (uint32, uint32) {
	w, h := p.width, p.height
	if w == 0 {
		w = 12
	}
	if h == 0 {
		h = 8
		if p.kind == statPanel {
			h = 5
		}
	}
	return w, h
}

func (p panel) promTargets() []cog.Builder[variants.Dataquery] {
	var out []cog.Builder[variants.Dataquery]
	for i, t := range p.targets {
		q := prometheus.NewDataqueryBuilder().Datasource(promRef).RefId(string(rune('A' + i))).
			Expr(t.expr).EditorMode(prometheus.QueryEditorModeCode)
		if t.legend != "" {
			q.LegendFormat(t.legend)
		}
		switch {
		case t.instant:
			q.Instant().Format(prometheus.PromQueryFormatTimeSeries)
		case t.heatmap:
			q.Range().Format(prometheus.PromQueryFormatHeatmap)
		default:
			q.Range().Format(prometheus.PromQueryFormatTimeSeries)
		}
		if t.exemplar {
			q.Exemplar(true)
		}
		out = append(out, q)
	}
	return out
}

func (p panel) thresholdsConfig(defaultColor string) *dashboard.ThresholdsConfigBuilder {
	steps := []dashboard.Threshold{{Color: defaultColor}}
	if len(p.thresholds) > 0 {
		steps = nil
		for _, t := range p.thresholds {
			steps = append(steps, dashboard.Threshold{Value: t.value, Color: t.color})
		}
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

// build returns the panel's builder; a description or unit left empty
// stays out of the JSON instead of being written as "".
func (p panel) build() cog.Builder[dashboard.Panel] {
	w, h := p.size()
	switch p.kind {
	case statPanel:
		b := stat.NewPanelBuilder().Title(p.title).Span(w).Height(h).
			Datasource(promRef).Targets(p.promTargets()).Thresholds(p.thresholdsConfig("blue")).
			Orientation(common.VizOrientationAuto).GraphMode(common.BigValueGraphModeNone).
			ColorMode(common.BigValueColorModeValue).TextMode(common.BigValueTextModeValueAndName).
			JustifyMode(common.BigValueJustifyModeAuto).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
		if p.description != "" {
			b.Description(p.description)
		}
		if p.unit != "" {
			b.Unit(p.unit)
		}
		if p.min != nil {
			b.Min(*p.min)
		}
		if p.max != nil {
			b.Max(*p.max)
		}
		return b
	case heatmapPanel:
		b := heatmap.NewPanelBuilder().Title(p.title).Span(w).Height(h).
			Datasource(promRef).Targets(p.promTargets()).Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit(p.unit).AxisPlacement(common.AxisPlacementLeft)).
			RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
			Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
			CellValues(heatmap.NewCellValuesBuilder().Unit("short")).
			ShowValue(common.VisibilityModeNever).SelectionMode(heatmap.HeatmapSelectionModeX)
		if p.description != "" {
			b.Description(p.description)
		}
		return b
	case tracesTable:
		q := *p.jaeger
		q.RefID, q.Datasource = "A", &jaegerRef
		b := table.NewPanelBuilder().Title(p.title).Span(w).Height(h).
			Datasource(jaegerRef).WithTarget(&JaegerQueryBuilder{q: q}).
			CellHeight(common.TableCellHeightSm).Align(common.FieldTextAlignmentAuto).
			Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false)).
			Thresholds(p.thresholdsConfig("blue"))
		if p.description != "" {
			b.Description(p.description)
		}
		return b
	default:
		b := timeseries.NewPanelBuilder().Title(p.title).Span(w).Height(h).
			Datasource(promRef).Targets(p.promTargets()).
			Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).
				Placement(common.LegendPlacementBottom).ShowLegend(true).Calcs([]string{})).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
			DrawStyle(common.GraphDrawStyleLine).LineInterpolation(common.LineInterpolationLinear).
			ShowPoints(common.VisibilityModeNever).FillOpacity(10).LineWidth(1).
			Thresholds(p.thresholdsConfig("green"))
		if p.description != "" {
			b.Description(p.description)
		}
		if p.unit != "" {
			b.Unit(p.unit)
		}
		if len(p.thresholds) > 0 {
			b.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))
		}
		if p.stacked {
			b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A"))
		}
		if p.min != nil {
			b.Min(*p.min)
		}
		if p.max != nil {
			b.Max(*p.max)
		}
		return b
	}
}

// row is a titled group of panels.
type row struct {
	title  string
	panels []panel
}

// variable is a multi-value query variable over a label's values, with
// All meaning any value (including none: .* matches the empty string, so
// a selector with it keeps the series without the label).
type variable struct {
	name, label string
	query       string // label_values(selector, label)
	// single is a variable of one value, for a query that takes one (a
	// Jaeger search's service); Grafana starts it at its first value.
	single bool
}

func (v variable) build() cog.Builder[dashboard.VariableModel] {
	if v.single {
		return dashboard.NewQueryVariableBuilder(v.name).Label(v.label).
			Query(dashboard.StringOrMap{String: &v.query}).Definition(v.query).
			Datasource(promRef).Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).Multi(false).IncludeAll(false)
	}
	all := "All"
	allValue := "$__all"
	return dashboard.NewQueryVariableBuilder(v.name).Label(v.label).
		Query(dashboard.StringOrMap{String: &v.query}).Definition(v.query).
		Datasource(promRef).Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).Multi(true).IncludeAll(true).AllValue(".*").
		Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: &all}, Value: dashboard.StringOrArrayOfString{String: &allValue}})
}

func datasourceVariable(name, label, typ, uid, title string) cog.Builder[dashboard.VariableModel] {
	return dashboard.NewDatasourceVariableBuilder(name).Label(label).Type(typ).
		Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: &title}, Value: dashboard.StringOrArrayOfString{String: &uid}})
}

// spec is one dashboard before it is built.
type spec struct {
	uid, title, description string
	kind                    Kind
	folder                  Folder
	tags                    []string
	variables               []variable
	rows                    []row
	links                   []string // tags of dashboards to link to
	time                    string   // now-<time> to now; "" is 6h
}

func (s spec) build() (dashboard.Dashboard, error) {
	from := "now-6h"
	if s.time != "" {
		from = "now-" + s.time
	}
	b := dashboard.NewDashboardBuilder(s.title).Uid(s.uid).Description(s.description).
		Tags(append([]string{ManagedTag, "vigil-" + string(s.kind)}, s.tags...)).
		Editable().Tooltip(dashboard.DashboardCursorSyncCrosshair).Time(from, "now").Refresh("1m").
		Timezone("browser").WeekStart("monday").
		WithVariable(datasourceVariable(DatasourceVar, "Metrics", "prometheus", PrometheusUID, "Vigil")).
		WithVariable(datasourceVariable(TracesVar, "Traces", JaegerType, JaegerUID, "Vigil traces"))
	for _, v := range s.variables {
		b.WithVariable(v.build())
	}
	for _, tag := range s.links {
		b.Link(dashboard.NewDashboardLinkBuilder("Vigil").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{tag}).AsDropdown(true).IncludeVars(true).KeepTime(true).TargetBlank(false).
			Icon("external link").Tooltip("Vigil's dashboards"))
	}
	for _, r := range s.rows {
		b.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			b.WithPanel(p.build())
		}
	}
	return b.Build()
}
