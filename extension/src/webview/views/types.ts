// What a tab's module gives the panel: its own controls in the toolbar, and what it shows under its picture.
import type { PanelTab } from "../../methods";
import type { App } from "../app";
import type { View } from "../state";

export interface TabModule {
    /** The tab's controls (layer, options…), in the toolbar before Compare and Export. */
    controls(app: App, tab: PanelTab, view: View | undefined): (Node | undefined)[];
    /** A second row under the toolbar (a registry method's option form). */
    form?(app: App, tab: PanelTab): Node | undefined;
    /** What goes between the picture picker and the picture (a colour scale). */
    above?(app: App, tab: PanelTab, view: View): (Node | undefined)[];
    /** The picture of a ready view; by default the fitted picture (picture.ts). */
    picture?(app: App, tab: PanelTab, view: View, png: string, alt: string): HTMLElement;
    /** What the tab shows under its picture: a channel opened large, a legend… */
    below?(app: App, tab: PanelTab, view: View, png: string): (Node | undefined)[];
}
