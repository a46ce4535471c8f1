// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Copy buttons (hidden until a script can make them work).
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    });
  });

  // The reach chart: the same figures as the table below it, drawn with uPlot.
  var data = document.getElementById("reach-history");
  var target = document.getElementById("reach-chart");
  if (data && target && window.uPlot) {
    var points = JSON.parse(data.textContent);
    var series = [[], [], [], []];
    points.forEach(function (p) {
      series[0].push(p.t); series[1].push(p.ipv4); series[2].push(p.asn); series[3].push(p.ipv6);
    });
    var width = Math.max(280, target.clientWidth || 600);
    new window.uPlot({
      width: width,
      height: 220,
      scales: { y: { range: [0, 100] } },
      axes: [{}, { values: function (u, ticks) { return ticks.map(function (t) { return t + "%"; }); } }],
      series: [
        {},
        { label: "IPv4", stroke: "#0b5cad", width: 2 },
        { label: "ASNs", stroke: "#0b5d1e", width: 2 },
        { label: "IPv6 /48s", stroke: "#8a1c14", width: 2 }
      ]
    }, series, target);
  }
})();
