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

  // Line charts drawn with uPlot: the same figures as the table beside each.
  // ``points`` [{t, key: value}], oldest first; ``chart.series`` [{key, label}] the lines,
  // ``chart.unit`` "percent" (0 to 100) or "bytes"; ``chart.step`` the seconds between
  // points when they are regular (ticks fall on whole steps: days, not hours).
  var COLOURS = ["#0b5cad", "#0b5d1e", "#8a1c14"];
  var PREFIXES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

  function bytes(value) {
    var step = 0;
    while (Math.abs(value) >= 1000 && step < PREFIXES.length - 1) { value /= 1000; step += 1; }
    return Number(value.toFixed(1)) + " " + PREFIXES[step];
  }

  function lineChart(targetId, points, chart) {
    var target = document.getElementById(targetId);
    if (!target || !window.uPlot) return;
    var columns = [points.map(function (p) { return p.t; })];
    var series = [{}];
    chart.series.forEach(function (line, index) {
      columns.push(points.map(function (p) { return p[line.key]; }));
      series.push({ label: line.label, stroke: COLOURS[index % COLOURS.length], width: 2 });
    });
    var percent = chart.unit === "percent";
    var format = percent ? function (t) { return t + "%"; } : bytes;
    new window.uPlot({
      width: Math.max(280, target.clientWidth || 600),
      height: 220,
      scales: percent ? { y: { range: [0, 100] } } : {},
      axes: [
        chart.step ? { incrs: [1, 2, 7, 14, 28].map(function (n) { return n * chart.step; }) } : {},
        { size: 70, values: function (u, ticks) { return ticks.map(format); } }
      ],
      series: series
    }, columns, target);
  }

  function figures(id) {
    var block = document.getElementById(id);
    return block ? JSON.parse(block.textContent) : null;
  }

  var reach = figures("reach-history");
  if (reach) {
    lineChart("reach-chart", reach, {
      unit: "percent",
      series: [
        { key: "ipv4", label: "IPv4" }, { key: "asn", label: "ASNs" }, { key: "ipv6", label: "IPv6 /48s" }
      ]
    });
  }
  var traffic = figures("traffic-days");
  if (traffic) lineChart("traffic-chart", traffic.points, traffic);
})();
