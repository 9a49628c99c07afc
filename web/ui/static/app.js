// Vigil's page helpers: the theme switch, "copy link with absolute time",
// keyboard navigation, and messages for lazy panels that did not load.
// Everything here enhances pages that work without it.

const themes = ["system", "light", "dark"];

/** Cycles the theme, remembered in a cookie the server renders from. */
function setupTheme() {
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.hidden = false;
    button.onclick = () => {
      const root = document.documentElement;
      const next = themes[(themes.indexOf(root.dataset.theme) + 1) % themes.length];
      root.dataset.theme = next;
      document.cookie = next === "system"
        ? "vigil_theme=; path=/; max-age=0; samesite=lax"
        : `vigil_theme=${next}; path=/; max-age=31536000; samesite=lax`;
      button.textContent = `Theme: ${next}`;
      document.dispatchEvent(new CustomEvent("vigil:theme"));
    };
  }
}

/** Copies the view's link with its range made absolute. */
function setupCopy() {
  for (const link of document.querySelectorAll("[data-copy-link]")) {
    link.onclick = async (event) => {
      event.preventDefault();
      const url = new URL(link.getAttribute("href"), location.href).href;
      try {
        await navigator.clipboard.writeText(url);
        const text = link.textContent;
        link.textContent = "Link copied";
        setTimeout(() => { link.textContent = text; }, 2000);
      } catch {
        location.assign(url); // no clipboard: go to the link, to copy from the address bar
      }
    };
  }
}

/** The tenant picker switches as soon as a tenant is chosen. */
function setupTenant() {
  const pick = document.querySelector("select#tenant-pick");
  if (pick) pick.onchange = () => pick.form.requestSubmit();
}

function typing(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

let pending = ""; // the first key of a two-key shortcut ("g")

/** Moves the row cursor of the page's first table of rows by step. */
function moveRow(step) {
  const links = [...document.querySelectorAll("[data-rows] [data-row]")];
  if (links.length === 0) return;
  const at = links.findIndex((a) => a.closest("tr")?.classList.contains("cursor"));
  const next = links[Math.max(0, Math.min(links.length - 1, at + step))];
  links.forEach((a) => a.closest("tr")?.classList.remove("cursor"));
  next.closest("tr")?.classList.add("cursor");
  next.focus();
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const key = event.key;
  if (pending === "g") {
    pending = "";
    // Each page's link in the navigation names its shortcut.
    const link = [...document.querySelectorAll("header nav a[data-shortcut]")].find((a) => a.dataset.shortcut === `g ${key}`);
    if (link) link.click();
    return;
  }
  const click = (selector) => document.querySelector(selector)?.click();
  switch (key) {
    case "g": pending = "g"; setTimeout(() => { pending = ""; }, 1500); break;
    case "/": event.preventDefault(); document.querySelector("[data-focus]")?.focus(); break;
    case "?": document.getElementById("keys")?.showModal(); break;
    case "j": moveRow(1); break;
    case "k": moveRow(-1); break;
    case "[": click('[data-key="["]'); break;
    case "]": click('[data-key="]"]'); break;
    case "z": click('[data-key="z"]'); break;
  }
}

/** A lazy panel whose request failed says so instead of loading forever. */
function onPanelError(event) {
  const panel = event.target.closest?.(".panel");
  const loading = panel?.querySelector(".loading");
  if (!loading) return;
  const why = event.detail?.error?.message ?? "no answer";
  loading.textContent = `This panel did not load (${why}). Reload the page to try again.`;
  loading.className = "problem";
}

function setup() {
  setupTheme();
  setupCopy();
  setupTenant();
}

setup();
document.addEventListener("keydown", onKey);
document.addEventListener("htmx:error", onPanelError);
document.addEventListener("htmx:after:settle", (event) => {
  setup();
  // A form's answer replaced the page: give the focus to the content, as
  // a page load would, unless it stayed on something still there.
  if (event.target.id === "app" && document.activeElement === document.body) {
    document.getElementById("main")?.focus();
  }
});
