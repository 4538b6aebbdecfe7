// Draws the dashboard's per-minute charts with uPlot (loaded before this script).
// Each chart element carries its series as JSON in data-chart; times are shown in UTC like the rest of the page.
/* global uPlot */
for (const element of document.querySelectorAll("[data-chart]")) {
  const { startSeconds, values, label, color } = JSON.parse(element.dataset.chart);
  const times = values.map((_, minute) => startSeconds + minute * 60);
  const options = {
    width: element.clientWidth,
    height: 150,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    scales: { y: { range: (_plot, _min, max) => [0, Math.max(1, max * 1.15)] } },
    axes: [
      { size: 30, values: (_plot, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(11, 16)) },
      { size: 50 },
    ],
    series: [{}, { label, stroke: color, fill: color + "33", width: 2, points: { show: false } }],
  };
  new uPlot(options, [times, values], element);
}
