// shopops console behaviour: charts from JSON islands, confirmations, focus after swaps.
(function () {
  "use strict";
  var locale = function () { return document.body.dataset.locale === "zh_CN" ? "zh-CN" : "en"; };

  function formatter(currency) {
    if (!currency) return function (v) { return v == null ? "–" : new Intl.NumberFormat(locale()).format(v); };
    var fmt = new Intl.NumberFormat(locale(), { style: "currency", currency: currency, maximumFractionDigits: 0 });
    var exponent = new Intl.NumberFormat("en", { style: "currency", currency: currency }).resolvedOptions().maximumFractionDigits;
    return function (v) { return v == null ? "–" : fmt.format(v / Math.pow(10, exponent)); };
  }

  var builders = {
    trend: function (spec) {
      var money = formatter(spec.series[0].money), count = formatter(null);
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 70, right: 50, top: 36, bottom: 30 },
        xAxis: { type: "category", data: spec.labels },
        yAxis: [{ type: "value", axisLabel: { formatter: money } }, { type: "value", axisLabel: { formatter: count } }],
        series: [
          { name: spec.series[0].name, type: "line", smooth: true, areaStyle: { opacity: 0.12 }, data: spec.series[0].data,
            tooltip: { valueFormatter: money } },
          { name: spec.series[1].name, type: "bar", yAxisIndex: 1, data: spec.series[1].data, itemStyle: { opacity: 0.55 } }
        ]
      };
    },
    funnel: function (spec) {
      return {
        tooltip: { trigger: "item" },
        series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%", gap: 2,
          label: { show: true, position: "inside", formatter: "{b}: {c}" },
          data: spec.steps.map(function (name, i) { return { name: name, value: spec.data[i] }; }) }]
      };
    },
    heatmap: function (spec) {
      var suffix = spec.suffix == null ? "%" : spec.suffix;
      return {
        tooltip: { position: "top", formatter: function (p) {
          return spec.rows[p.value[1]] + " · +" + spec.columns[p.value[0]] + ": " + p.value[2] + suffix; } },
        grid: { left: 100, right: 20, top: 10, bottom: 86 },
        xAxis: { type: "category", data: spec.columns, splitArea: { show: true } },
        yAxis: { type: "category", data: spec.rows, inverse: true },
        visualMap: { min: 0, max: spec.max || 1, calculable: true, orient: "horizontal", left: "center",
          bottom: 0, itemHeight: 160, itemWidth: 12, text: [String(spec.max || 1) + suffix, "0" + suffix] },
        series: [{ type: "heatmap", data: spec.cells,
          label: { show: spec.cells.length <= 400, fontSize: 11,
            formatter: function (p) { return p.value[2] + suffix; } } }]
      };
    },
    bars: function (spec) {
      var fmt = formatter(spec.money);
      return {
        tooltip: { trigger: "axis", valueFormatter: fmt },
        grid: { left: 110, right: 20, top: 10, bottom: 30 },
        xAxis: { type: "value", axisLabel: { formatter: fmt } },
        yAxis: { type: "category", data: spec.labels, inverse: true },
        series: [{ type: "bar", data: spec.data }]
      };
    }
  };

  function drawCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll("script[data-chart]").forEach(function (island) {
      var target = document.getElementById(island.dataset.chart);
      if (!target) return;
      var spec = JSON.parse(island.textContent);
      var existing = window.echarts.getInstanceByDom(target);
      if (existing) existing.dispose();
      var chart = window.echarts.init(target, null, { renderer: "svg", locale: locale() === "zh-CN" ? "ZH" : "EN" });
      var option = builders[spec.kind](spec);
      option.animation = false;  // draw at once: no motion for people who work here all day
      chart.setOption(option);
      target.dataset.rendered = "true";
    });
  }

  window.addEventListener("resize", function () {
    if (!window.echarts) return;
    document.querySelectorAll(".chart[data-rendered]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });

  // Destructive plain-form actions ask first: <form data-confirm="...">; htmx elements use hx-confirm.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return;
    var message = (event.submitter && event.submitter.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  // Select-all for bulk actions: <input type="checkbox" data-select-all="name">.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.dataset || !box.dataset.selectAll) return;
    document.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
