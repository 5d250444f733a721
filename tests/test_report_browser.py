"""The report as a reviewer sees it: opened in headless Chromium at 1400 px and 390 px, and printed to PDF.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without them the
tests are skipped on a developer's machine and fail under CI, so they always run where it counts.
Screenshots and the PDF are kept in ``test-artifacts/`` for a person to look at.
"""

import base64
import io
import os
import shutil
import unicodedata

import pytest
from helpers import REPO

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium and chromium-driver for the report tests "
                           "(.ci/run installs them)")
    pytest.skip("no chromium/chromedriver here: apt-get install chromium chromium-driver", allow_module_level=True)

from pypdf import PdfReader  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.print_page_options import PrintOptions  # noqa: E402

ARTIFACTS = REPO / "test-artifacts"
POOLED_HEADERS = ["k", "estimate", "CI", "p", "p (Holm)", "PI", "tau²", "tau² CI", "I² %", "I² CI", "Q (df), p", "note"]


def browser(width: int, height: int = 1000, mobile: bool = False) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={width},{height}"):
        opts.add_argument(flag)
    if mobile:  # a phone: the page is laid out by its viewport meta tag
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height,
                                                                            "pixelRatio": 2.0}})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


@pytest.fixture(scope="module")
def report(bundled) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return (bundled / "results" / "report.html").as_uri()


@pytest.fixture(scope="module")
def desktop(report):
    d = browser(1400)
    d.get(report)
    yield d
    d.quit()


@pytest.mark.browser
@pytest.mark.workflow
def test_every_image_decodes(desktop):
    images = desktop.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(images) >= 20  # nine forest plots, a study-level one, funnels, time course, bubbles, ...
    assert [alt for alt, done, w, h in images if not (done and w > 0 and h > 0)] == []


@pytest.mark.browser
@pytest.mark.workflow
def test_every_contents_link_lands_on_its_section(desktop):
    links = desktop.execute_script(
        "return Array.from(document.querySelectorAll('nav a')).map(a => a.getAttribute('href'))")
    assert len(links) >= 20 and all(h.startswith("#") for h in links)
    groups = desktop.execute_script(
        "return Array.from(document.querySelectorAll('nav ol ol a')).map(a => a.textContent)")
    assert "Behaviour" in groups and "Microglia" in groups  # every group, one click from the top
    for href in links:
        desktop.execute_script("window.scrollTo(0, 0)")
        desktop.find_element("css selector", f"nav a[href='{href}']").click()
        top, height, bottom = desktop.execute_script(
            "const e = document.getElementById(arguments[0]); const r = e.getBoundingClientRect();"
            "return [r.top, window.innerHeight, "
            "document.documentElement.scrollHeight - window.scrollY - window.innerHeight]",
            href[1:])
        # the target is at the top of the window, or as high as the end of the page lets it go
        assert abs(top) <= 2 or (bottom <= 2 and 0 <= top < height), (href, top, bottom)


@pytest.mark.browser
@pytest.mark.workflow
def test_glance_links_to_each_forest_plot(desktop):
    desktop.execute_script("window.scrollTo(0, 0)")
    desktop.find_element("link text", "Behaviour").click()
    target = desktop.execute_script("return document.elementFromPoint(700, 5).closest('figure').id")
    assert target.startswith("forest-")


@pytest.mark.browser
@pytest.mark.workflow
def test_no_horizontal_scroll_at_1400px(desktop):
    desktop.execute_script("window.scrollTo(0, 0)")
    width, inner = desktop.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner
    desktop.save_screenshot(str(ARTIFACTS / "report_1400px.png"))
    desktop.execute_script("document.getElementById('forest').scrollIntoView()")
    desktop.save_screenshot(str(ARTIFACTS / "report_1400px_forest.png"))


@pytest.mark.browser
@pytest.mark.workflow
def test_narrow_phone_layout(report):
    d = browser(390, 844, mobile=True)
    try:
        d.get(report)
        assert d.execute_script("return document.querySelector('meta[name=viewport]').content").startswith(
            "width=device-width")
        width, inner = d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert inner == 390 and width <= inner
        d.save_screenshot(str(ARTIFACTS / "report_390px.png"))
        d.execute_script("document.getElementById('pooled').scrollIntoView()")
        d.save_screenshot(str(ARTIFACTS / "report_390px_pooled.png"))
    finally:
        d.quit()


@pytest.mark.browser
@pytest.mark.workflow
def test_printed_pdf_keeps_every_pooled_column(desktop):
    options = PrintOptions()
    options.orientation = "landscape"
    pdf = base64.b64decode(desktop.print_page(options))
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    text = unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))  # no ligatures
    start = text.index("p adjusted across groups by Holm")  # the line under the pooled table's heading
    pooled = text[start:text.index("Subgroup differences", start)]
    missing = [h for h in POOLED_HEADERS if unicodedata.normalize("NFKC", h) not in pooled]
    assert missing == []
    for group in ("Anti-inflammatory", "Mu-opioid receptor (RVM)", "overall"):
        assert group in pooled


LONG_GROUPS = [f"{name}: expression measured after treatment, Western blot and qPCR of tissue, naïve"
               for name in ("IL-1β", "TNF-α", "Müller glia", "GFAP", "BDNF–TrkB", "GABA", "μ-opioid receptor",
                            "Iba1", "IL-10", "IL-6", "p38 MAPK", "Nrf2/HO-1", "CX3CL1", "ERK1/2")] + ["overall"]


def test_contents_numbers_of_the_second_column_clear_the_first(tmp_path):
    """Fourteen groups of 80 characters in the contents' two columns: every number of the second
    column (its list marker, drawn left of the item) stands clear of the first column's text
    (it was drawn in the 1em gap between the columns, over the ends of the lines before it)."""
    from test_report_template import _section

    nav = _section("<!DOCTYPE html>", '<h2 id="glance">').render(
        sheet_name="sheet.csv", config={"group_by": "mechanism"}, versions={"premeta": "0"}, x={},
        forest=LONG_GROUPS)
    page = tmp_path / "contents.html"
    page.write_text(nav + "</body></html>", encoding="utf-8")
    d = browser(1280)
    try:
        d.get(page.as_uri())
        items = d.execute_script("""
            const probe = document.createElement('span'); probe.style.whiteSpace = 'pre';
            return Array.from(document.querySelectorAll('nav ol ol li')).map((li, i) => {
              probe.textContent = (i + 1) + '. '; li.appendChild(probe);
              const marker = probe.getBoundingClientRect().width; li.removeChild(probe);
              const lines = Array.from(li.firstChild.getClientRects());
              return [Math.min(...lines.map(r => r.left)), Math.max(...lines.map(r => r.right)), marker];
            });""")
    finally:
        d.quit()
    lefts = sorted({round(left) for left, _, _ in items})
    assert len(lefts) == 2  # two columns
    first_right = max(right for left, right, _ in items if round(left) == lefts[0])
    second = [(left, marker) for left, _, marker in items if round(left) == lefts[1]]
    assert second and all(left - marker >= first_right for left, marker in second), (first_right, second)
