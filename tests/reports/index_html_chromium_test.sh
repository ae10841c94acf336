#!/usr/bin/env bash
# Renders the committed reports/index.html and reports/ci/index.html in headless Chromium
# (Debian's chromium, installed by tools/setup.sh) and fails on a broken image, link or anchor.
# A checker script, appended to a copy of each page, waits for the page to load, then checks
# every <img> decoded (naturalWidth > 0), every relative link by reading it, and every #anchor.
# First it checks a page with one broken image and one broken link, which must be reported.
set -uo pipefail
chromium_bin="${CHROMIUM:-chromium}"
command -v "$chromium_bin" >/dev/null ||
  { echo "FAIL: no $chromium_bin: run 'bash tools/setup.sh' (it installs Debian's chromium)"; exit 1; }
export HOME="$TEST_TMPDIR/home"
mkdir -p "$HOME"
checker="$TEST_TMPDIR/checker.html"
cat >"$checker" <<'JS'
<script>
window.addEventListener("load", () => {
  const broken = [];
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) broken.push("image " + img.getAttribute("src"));
  }
  const links = document.querySelectorAll("a[href]");
  for (const a of links) {
    const href = a.getAttribute("href");
    if (href.startsWith("#")) {
      if (!document.getElementById(decodeURIComponent(href.slice(1)))) broken.push("anchor " + href);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) && !href.startsWith("file:")) continue;  // not followed
    const url = new URL(href, document.baseURI);
    url.hash = "";
    try {
      const xhr = new XMLHttpRequest();
      xhr.open("GET", url.href, false);
      xhr.send();
      if (!xhr.responseText) broken.push("link " + href);
    } catch (e) {
      broken.push("link " + href);
    }
  }
  const out = document.createElement("pre");
  out.id = "link-check";
  out.textContent = broken.length ? "BROKEN " + broken.join(" | ")
      : "ALL-OK " + document.images.length + " images " + links.length + " links";
  document.body.appendChild(out);
});
</script>
JS

# check PAGE: prints the checker's verdict line for PAGE (a copy with the checker appended).
check() {
  local page="$1" copy
  copy="$(dirname "$page")/.chromium_check_$(basename "$page")"
  # The checker goes in before the line that closes the body.
  awk -v checker="$checker" '/<\/body>/ { while ((getline line < checker) > 0) print line } { print }' \
    "$page" >"$copy"
  timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --allow-file-access-from-files --virtual-time-budget=20000 --dump-dom "file://$copy" \
    2>"$TEST_TMPDIR/chromium.log" | grep -o 'id="link-check">[^<]*' | sed 's/^id="link-check">//'
}

# The checker must see what is broken.
bad="$TEST_TMPDIR/bad"
mkdir -p "$bad"
printf '<!DOCTYPE html><html><body><img src="missing.svg"><a href="missing.md">x</a><a href="#nowhere">y</a><a href="ok.md">z</a></body></html>' >"$bad/index.html"
echo "fine" >"$bad/ok.md"
verdict=$(check "$bad/index.html")
case "$verdict" in
  "BROKEN image missing.svg | link missing.md | anchor #nowhere") ;;
  *) echo "FAIL: the checker missed a broken image, link or anchor: '$verdict'"; tail -5 "$TEST_TMPDIR/chromium.log"; exit 1 ;;
esac

failed=0
for page in reports/index.html reports/ci/index.html; do
  [ -f "$page" ] || { echo "FAIL: $page is missing"; failed=1; continue; }
  # A writable copy: the checker's page goes beside the original.
  copy_dir="$TEST_TMPDIR/$(dirname "$page")"
  mkdir -p "$copy_dir"
  cp -rL "$(dirname "$page")"/. "$copy_dir"/
  verdict=$(check "$copy_dir/index.html")
  echo "$page: $verdict"
  case "$verdict" in
    ALL-OK*) ;;
    *) failed=1 ;;
  esac
done
exit $failed
