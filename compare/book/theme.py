"""The book's style sheet and its one script (the search box). No fonts, no CDN: the pages
open from the file system; maths is MathML, which the browser lays out itself."""
from pygments.formatters import HtmlFormatter

CSS = """
body { font: 16px/1.55 Georgia, 'DejaVu Serif', serif; color: #1d1d1f; margin: 0;
       background: #fbfbf8; }
main { max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
nav.top { background: #23395d; color: #fff; padding: .5rem 1.5rem; font: 14px sans-serif; }
nav.top a { color: #dfe8ff; margin-right: 1rem; }
h1 { font-size: 2rem; margin: .8rem 0 .2rem; }
h2 { border-bottom: 1px solid #ccd; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { margin-bottom: .3rem; }
.family { font: 13px sans-serif; color: #556; text-transform: uppercase; letter-spacing: .05em; }
.lead { font-size: 1.1rem; }
code, pre { font: 13.5px/1.4 'DejaVu Sans Mono', monospace; }
p code, li code, td code, dd code { background: #eef0f4; padding: 0 .2em; border-radius: 3px; }
pre.text { background: #f3f3ee; padding: .7rem; overflow-x: auto; white-space: pre-wrap; }
.eq { margin: .6rem 0; overflow-x: auto; }
math[display=block] { font-size: 1.15em; }
ol.derivation li { margin-bottom: .6rem; }
ol.derivation li::marker { font-weight: bold; color: #23395d; }
dl.args dt { font-family: monospace; font-weight: bold; }
dl.args dd { margin: 0 0 .4rem 1.5rem; }
table { border-collapse: collapse; margin: .6rem 0; font: 13.5px sans-serif; }
th, td { border: 1px solid #d5d8de; padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #eceef3; }
td.num { font-family: monospace; text-align: right; white-space: nowrap; }
.pass { color: #17752a; font-weight: bold; }
.fail { color: #b00020; font-weight: bold; }
ul.claims { list-style: none; padding-left: 0; }
ul.claims li { margin: .4rem 0; padding: .3rem .6rem; border-left: 4px solid #17752a;
               background: #f1f8f2; }
ul.claims li.fail { border-color: #b00020; background: #fbeff1; }
.measured { display: block; font: 13px monospace; color: #334; }
.src { font: 13px sans-serif; margin: .8rem 0 .2rem; }
.code { background: #f6f8fa; border: 1px solid #e1e4e8; padding: .3rem .6rem;
        overflow-x: auto; }
.code .hll { background: #ffe0e0; }
img.plot { max-width: 100%; border: 1px solid #dde; margin: .4rem 0; }
.exercise { border: 1px solid #d7c9a8; background: #fffaf0; padding: .2rem 1rem;
            margin: 1rem 0; }
input#search { font-size: 1.1rem; padding: .4rem .6rem; width: 100%; max-width: 30rem;
               box-sizing: border-box; }
ul#hits { columns: 2; }
.families { columns: 3; column-gap: 2rem; }
.families section { break-inside: avoid; margin-bottom: 1rem; }
.families h3 { margin-top: 0; }
.families ul { padding-left: 1.1rem; margin: .2rem 0; }
.summary { color: #445; font-size: .9rem; }
.note { color: #556; font-size: .9rem; }
""" + HtmlFormatter(cssclass="code").get_style_defs(".code")

#: the search box: filters the generated index (search-index.js sets window.BOOK_INDEX);
#: loaded with a <script src>, which works from file:// where fetch() of a JSON file does not
SEARCH_JS = """
(function () {
  var box = document.getElementById('search'), hits = document.getElementById('hits');
  if (!box || !window.BOOK_INDEX) return;
  function show() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    hits.innerHTML = '';
    if (!words.length) return;
    window.BOOK_INDEX.filter(function (e) {
      var hay = (e.name + ' ' + e.family + ' ' + e.text).toLowerCase();
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    }).slice(0, 40).forEach(function (e) {
      var li = document.createElement('li'), a = document.createElement('a');
      a.href = e.href; a.textContent = e.name;
      li.appendChild(a);
      li.appendChild(document.createTextNode(' (' + e.family + ') ' + e.summary));
      hits.appendChild(li);
    });
  }
  box.addEventListener('input', show);
  show();
})();
"""
