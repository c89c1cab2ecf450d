/**
 * The dashboard's charts: Apache ECharts, only the parts used (line and pie charts, the grid,
 * tooltip, legend, zoom and the aria description), bundled with the page. Each chart is a
 * `figure` whose container is an image with a text description for screen readers; the tables
 * beside the charts carry the same figures for keyboard and screen-reader users.
 */
import { LineChart, PieChart } from 'echarts/charts'
import {
  AriaComponent,
  DataZoomInsideComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
} from 'echarts/components'
import { type EChartsCoreOption, type EChartsType, init, use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

use([
  LineChart,
  PieChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DataZoomInsideComponent,
  AriaComponent,
  CanvasRenderer,
])

const charts = new Map<HTMLElement, EChartsType>()

const dark = () => document.documentElement.dataset.theme === 'dark'

/** Draws `option` into `el` (creating the chart the first time, or after a theme change). */
export function draw(el: HTMLElement, option: EChartsCoreOption, description: string): EChartsType {
  let chart = charts.get(el)
  if (chart && (chart.getOption() as { darkMode?: boolean }).darkMode !== dark()) {
    chart.dispose()
    chart = undefined
  }
  if (!chart) {
    chart = init(el, dark() ? 'dark' : undefined, { renderer: 'canvas' })
    charts.set(el, chart)
  }
  el.setAttribute('role', 'img')
  el.setAttribute('aria-label', description)
  chart.setOption(
    {
      darkMode: dark(),
      backgroundColor: 'transparent',
      aria: { enabled: true, label: { description } },
      animation: false,
      ...option,
    },
    { notMerge: true },
  )
  return chart
}

/** Charts whose container left the page are disposed; the rest follow the window's size. */
export function tidy() {
  for (const [el, chart] of charts) {
    if (!el.isConnected) {
      chart.dispose()
      charts.delete(el)
    }
  }
}
addEventListener('resize', () => {
  for (const chart of charts.values()) chart.resize()
})

/** A time axis of dates, lines of values, a value axis formatted by `axis`. */
export function lines(
  dates: string[],
  series: { name: string; values: (number | null)[]; area?: boolean; color?: string }[],
  axis: (value: number) => string,
  tooltip: (value: number) => string,
): EChartsCoreOption {
  return {
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    legend: { top: 0 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: unknown) => (typeof v === 'number' ? tooltip(v) : '–'),
    },
    dataZoom: [{ type: 'inside' }],
    xAxis: { type: 'category', data: dates, boundaryGap: false },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: axis } },
    series: series.map((s) => ({
      name: s.name,
      type: 'line',
      data: s.values,
      showSymbol: false,
      connectNulls: false,
      ...(s.color ? { itemStyle: { color: s.color }, lineStyle: { color: s.color } } : {}),
      ...(s.area ? { areaStyle: { opacity: 0.15 } } : {}),
    })),
  }
}

/** A donut of labelled values. */
export function donut(
  slices: { name: string; value: number }[],
  tooltip: (value: number) => string,
): EChartsCoreOption {
  return {
    tooltip: { trigger: 'item', valueFormatter: (v: unknown) => (typeof v === 'number' ? tooltip(v) : '–') },
    legend: { type: 'plain', bottom: 0 },
    series: [
      {
        type: 'pie',
        radius: ['45%', '70%'],
        center: ['50%', '45%'],
        data: slices,
        label: { show: false },
      },
    ],
  }
}
