
(function () {
  var box = document.getElementById('search'), hits = document.getElementById('hits');
  if (!box || !window.BOOK_INDEX) return;
  function show() {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
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
