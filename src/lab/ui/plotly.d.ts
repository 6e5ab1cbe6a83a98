/** The part of Plotly's API the lab uses (the gl3d dist bundle ships no types). */
declare module "plotly.js-gl3d-dist-min" {
  type PlotlyElement = HTMLElement & {
    on(event: string, handler: (e: Record<string, unknown>) => void): void;
  };
  const Plotly: {
    newPlot(el: HTMLElement, data: object[], layout?: object, config?: object): Promise<PlotlyElement>;
    relayout(el: HTMLElement, update: object): Promise<PlotlyElement>;
    restyle(el: HTMLElement, update: object, traces?: number[]): Promise<PlotlyElement>;
    purge(el: HTMLElement): void;
  };
  export default Plotly;
}
