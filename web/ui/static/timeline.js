// The live timeline of an action's page. The server streams the timeline
// as it moves (server-sent events, data-live); each event replaces the
// panel. Where the browser has no EventSource, or the stream cannot be
// had, the island asks for the panel every few seconds instead
// (data-poll). The page without script shows the timeline as it was.

/** What follows the timeline now: the action's key, and how to stop. */
let current = null;

/** The action a panel follows: its stream's path (the version aside). */
function key(panel) {
  return new URL(panel.dataset.live, location.href).pathname;
}

function stop() {
  current?.close();
  current = null;
}

/** Replaces the timeline with the HTML of a newer one; returns it. */
function replace(html) {
  const t = document.createElement("template");
  t.innerHTML = html.trim();
  const next = t.content.querySelector("#timeline");
  const now = document.getElementById("timeline");
  if (!next || !now) return null;
  now.replaceWith(next);
  return next;
}

/** Says in the panel that the live view has a problem. */
function say(text) {
  const panel = document.getElementById("timeline");
  if (!panel) return;
  let p = panel.querySelector(".live-problem");
  if (!p) {
    p = document.createElement("p");
    p.className = "problem live-problem";
    panel.append(p);
  }
  p.textContent = text;
}

/** Asks for the timeline panel every few seconds until it is final. */
function poll(panel) {
  let timer = 0;
  let url = panel.dataset.poll;
  let seconds = Number(panel.dataset.pollSeconds) || 5;
  const tick = async () => {
    try {
      const answer = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
      if (!answer.ok) throw new Error(`${answer.status} ${answer.statusText}`);
      const next = replace(await answer.text());
      if (!next?.dataset.poll) return stop(); // final: nothing more to follow
      url = next.dataset.poll;
      seconds = Number(next.dataset.pollSeconds) || seconds;
    } catch (err) {
      say(`The timeline could not be read again (${err.message}); trying again.`);
    }
    timer = setTimeout(tick, seconds * 1000);
  };
  timer = setTimeout(tick, seconds * 1000);
  return { key: key(panel), close: () => clearTimeout(timer) };
}

/** Follows the stream; falls back to polling when it cannot be had. */
function stream(panel) {
  const source = new EventSource(panel.dataset.live);
  let failures = 0;
  source.addEventListener("timeline", (event) => {
    failures = 0;
    replace(event.data);
  });
  source.onopen = () => { failures = 0; };
  source.addEventListener("problem", (event) => say(event.data));
  source.addEventListener("end", () => stop());
  source.onerror = () => {
    // CLOSED: the server refused the stream (an error status); otherwise
    // the browser connects again by itself, but not for ever.
    failures++;
    if (source.readyState === EventSource.CLOSED || failures >= 3) {
      source.close();
      const now = document.getElementById("timeline");
      if (now?.dataset.poll) current = poll(now);
    }
  };
  return { key: key(panel), close: () => source.close() };
}

function setup() {
  const panel = document.querySelector("#timeline[data-live]");
  if (!panel) return stop();
  if (current?.key === key(panel)) return; // already followed
  stop();
  current = "EventSource" in window ? stream(panel) : poll(panel);
}

setup();
document.addEventListener("htmx:after:settle", setup);
