// Plots of training histories.
export { historyPlotSvg, writeHistoryPlot, niceTicks } from './svg.js';
export type { HistoryRecord, PlotOptions } from './svg.js';
