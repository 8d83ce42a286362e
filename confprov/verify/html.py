"""The HTML report: one self-contained page (no external file, script or font).

Summary per level and district, then a table of every site that filters as one types, sorts by
any column and opens each site's checks with the measured values and thresholds. Rows and
details are rendered here; the small script only hides, shows and reorders them.
"""

from __future__ import annotations

from html import escape

from confprov.verify import windows as win
from confprov.verify.evaluate import SiteResult, sort_checks
from confprov.verify.labels import heading, label
from confprov.verify.report import Report

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}.big{font-size:2rem;font-weight:bold}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th.sortable{cursor:pointer;background:#f3f3f3}th.sortable:after{content:" \\2195";color:#999}
tr.fail td.status{background:#fdd}
tr.warn td.status{background:#ffd}tr.pass td.status{background:#dfd}
td.lv-fail{color:#a00;font-weight:bold}td.lv-warn{color:#a60}td.lv-skip{color:#888}
td.lv-unmeasured{color:#06c;font-style:italic}
.summary{display:flex;gap:2rem;flex-wrap:wrap}details table{margin:.25rem 0}
"""

_SCRIPT = """
(function(){
  var input=document.getElementById('filter'), only=document.getElementById('only-red');
  var body=document.getElementById('sites-body'), shown=document.getElementById('shown');
  function apply(){
    var q=input.value.trim().toLowerCase(), n=0;
    Array.prototype.forEach.call(body.rows,function(r){
      var ok=(!q||r.getAttribute('data-search').indexOf(q)>=0)
        &&(!only.checked||r.getAttribute('data-ready')==='0');
      r.hidden=!ok; if(ok){n++;}
    });
    shown.textContent=n;
  }
  input.addEventListener('input',apply); only.addEventListener('change',apply);
  Array.prototype.forEach.call(document.querySelectorAll('th.sortable'),function(th,col){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('data-dir')!=='asc'; th.setAttribute('data-dir',asc?'asc':'desc');
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute('data-key')||a.cells[col].textContent;
        var y=b.cells[col].getAttribute('data-key')||b.cells[col].textContent;
        return (asc?1:-1)*x.localeCompare(y,undefined,{numeric:true});
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  apply();
})();
"""


def _counts_table(lang: str, title: str, rows: dict[str, tuple[int, int]], key: str) -> str:
    body = "".join(
        f'<tr><td>{escape(name)}</td><td data-{key}="{escape(name)}">{r}/{n}</td></tr>'
        for name, (r, n) in rows.items()
    )
    return (
        f"<div><h2>{escape(title)}</h2><table><tr><th>{escape(heading(lang, 'name'))}</th>"
        f"<th>{escape(label(lang, 'ready'))}</th></tr>{body}</table></div>"
    )


def _details(lang: str, site: SiteResult) -> str:
    rows = "".join(
        f"<tr><td>{escape(label(lang, v.check))}</td><td>{escape(v.host)}</td>"
        f'<td class="lv-{v.level}">{escape(label(lang, v.level))}</td>'
        f"<td>{escape(v.value_text())}</td><td>{escape(v.threshold)}</td><td>{escape(v.reason)}</td></tr>"
        for v in sort_checks(site.checks)
    )
    head = "".join(
        f"<th>{escape(heading(lang, k))}</th>"
        for k in ("check", "host", "status", "value", "threshold", "reason")
    )
    return (
        f"<details><summary>{escape(label(lang, 'details'))}</summary>"
        f"<table><tr>{head}</tr>{rows}</table></details>"
    )


def _site_row(report: Report, site: SiteResult) -> str:
    lang = report.lang
    district = report.district_of(site)
    state = label(lang, "ready") if site.ready else label(lang, "not_ready")
    reason = "; ".join(f"{label(lang, v.check)}: {v.reason}" for v in sort_checks(site.failing))
    reason = "; ".join(filter(None, (reason, win.note(site, lang))))
    search = " ".join(
        [site.site, site.name, label(lang, site.level), district, state, reason]
    ).lower()
    return (
        f'<tr class="{site.status}" data-ready="{int(site.ready)}" data-search="{escape(search)}">'
        f"<td>{escape(site.site)}</td><td>{escape(site.name)}</td>"
        f"<td>{escape(label(lang, site.level))}</td><td>{escape(district)}</td>"
        f'<td class="status" data-key="{int(site.ready)}{site.status}">{escape(state)}</td>'
        f"<td>{escape(reason)}{_details(lang, site)}</td></tr>"
    )


def html_page(report: Report) -> str:
    lang = report.lang
    title = f"{label(lang, 'title')}: {report.province}".rstrip(": ")
    levels = {label(lang, lv): c for lv, c in report.by_level().items()}
    columns = ("site", "name", "level", "district", "status", "reason")
    head = "".join(
        f'<th class="sortable">{escape(heading(lang, c))}</th>'
        if c != "reason"
        else f"<th>{escape(heading(lang, c))}</th>"
        for c in columns
    )
    rows = "".join(_site_row(report, s) for s in report.sites)
    run = report.run
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_STYLE}</style></head><body>
<h1>{escape(title)}</h1>
<p>{escape(label(lang, "run"))} {run.id} ({escape(label(lang, run.scope))}),
{escape(label(lang, "generated"))} {escape(run.finished)}</p>
<p class="big" id="summary"><span id="count-ready">{report.ready}</span>/<span
 id="count-total">{len(report.sites)}</span> {escape(label(lang, "ready"))}</p>
<div class="summary">
{_counts_table(lang, heading(lang, "by_level"), levels, "level")}
{_counts_table(lang, heading(lang, "by_district"), report.by_district(), "district")}
</div>
<p><label>{escape(label(lang, "filter"))}: <input id="filter" type="search"></label>
<label><input id="only-red" type="checkbox"> {escape(label(lang, "only_not_ready"))}</label>
(<span id="shown">{len(report.sites)}</span>/{len(report.sites)})</p>
<table id="sites"><thead><tr>{head}</tr></thead><tbody id="sites-body">{rows}</tbody></table>
<script>{_SCRIPT}</script>
</body></html>
"""
