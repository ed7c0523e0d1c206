// Building and updating the panel's DOM. Views are functions that build fresh elements with h(); patch() then
// brings the live DOM in line with them in place: an element that is still there keeps its identity, so focus,
// text typed into an input, a scroll position and a decoded image survive every update, and only what differs is
// touched. Elements are matched by id (or data-key) where they have one, else by position and tag.
// Event handlers are set as on* properties, so patch() can carry them over to the element it keeps.
// Styles are set through the CSSOM only: the Content-Security-Policy refuses inline style attributes.

export type Child = Node | string | undefined | false | null;

type Handler<E extends Event> = (event: E) => void;

export interface Props {
    /** Attributes; `true` sets an empty attribute, `false` and `undefined` leave it out. */
    [attribute: string]: string | number | boolean | undefined | Handlers | Styles;
}

export interface Handlers {
    click?: Handler<MouseEvent>;
    change?: Handler<Event>;
    input?: Handler<Event>;
    keydown?: Handler<KeyboardEvent>;
    load?: Handler<Event>;
    scroll?: Handler<Event>;
    wheel?: Handler<WheelEvent>;
}

/** CSS properties by their CSSOM names (`width`, `backgroundColor`). */
export type Styles = Partial<Record<"width" | "height" | "left" | "top" | "aspectRatio" | "maxWidth" | `--${string}`, string>>;

const EVENTS = ["click", "change", "input", "keydown", "load", "scroll", "wheel"] as const;

/** An element: `text` sets its text, `on` its handlers, `style` its CSSOM styles, anything else an attribute. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
        if (value === undefined || value === false) continue;
        if (name === "text") el.textContent = String(value as string | number);
        else if (name === "on") for (const [event, handler] of Object.entries(value as Handlers)) setHandler(el, event, handler as Handler<Event>);
        else if (name === "style") for (const [property, v] of Object.entries(value as Styles)) setStyle(el, property, v);
        else el.setAttribute(name, value === true ? "" : String(value as string | number));
    }
    for (const c of children) if (c !== undefined && c !== false && c !== null) el.append(c);
    return el;
}

function setStyle(el: HTMLElement, property: string, value: string | undefined): void {
    if (value === undefined) return;
    if (property.startsWith("--")) el.style.setProperty(property, value);
    else el.style.setProperty(property.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), value);
}

function setHandler(el: HTMLElement, event: string, handler: Handler<Event> | null): void {
    (el as unknown as Record<string, Handler<Event> | null>)[`on${event}`] = handler;
}

function handlerOf(el: HTMLElement, event: string): Handler<Event> | null {
    return (el as unknown as Record<string, Handler<Event> | null>)[`on${event}`] ?? null;
}

/** The children of `parent` become `children`, reusing the elements already there (see the file's comment). */
export function patch(parent: Element, children: readonly Child[]): void {
    const wanted = children.filter((c): c is Node | string => c !== undefined && c !== false && c !== null).map((c) => (typeof c === "string" ? document.createTextNode(c) : c));
    const keyed = new Map<string, Element>();
    const unkeyed: ChildNode[] = [];
    for (const node of Array.from(parent.childNodes)) {
        const key = node instanceof Element ? keyOf(node) : undefined;
        if (key !== undefined && !keyed.has(key)) keyed.set(key, node as Element);
        else unkeyed.push(node);
    }
    const kept = new Set<ChildNode>();
    wanted.forEach((next, i) => {
        const key = next instanceof Element ? keyOf(next) : undefined;
        let old: ChildNode | undefined;
        if (key !== undefined) {
            const match = keyed.get(key);
            if (match && match.tagName === (next as Element).tagName) old = match;
        } else {
            const at = unkeyed.findIndex((n) => !kept.has(n) && n.nodeType === next.nodeType && n.nodeName === next.nodeName);
            if (at >= 0) old = unkeyed[at];
        }
        const node = old ?? next;
        if (old) {
            kept.add(old);
            morph(old, next);
        }
        const here = parent.childNodes[i];
        if (here !== node) parent.insertBefore(node, here ?? null);
        if (!old && node instanceof Element) showSelected(node);
    });
    while (parent.childNodes.length > wanted.length) parent.lastChild?.remove();
}

/** A select just put in the page shows the option marked selected (moving options between parents can lose it). */
function showSelected(el: Element): void {
    const selects = el instanceof HTMLSelectElement ? [el] : Array.from(el.querySelectorAll("select"));
    for (const select of selects) {
        const marked = Array.from(select.querySelectorAll("option")).find((o) => o.hasAttribute("selected"));
        if (marked) select.value = marked.value;
    }
}

function keyOf(el: Element): string | undefined {
    const key = el.id || el.getAttribute("data-key");
    return key ? `${el.tagName}#${key}` : undefined;
}

/** Makes `old` look like `next`, in place. */
function morph(old: ChildNode, next: Node): void {
    if (old.nodeType === Node.TEXT_NODE) {
        if (old.nodeValue !== next.nodeValue) old.nodeValue = next.nodeValue;
        return;
    }
    if (!(old instanceof HTMLElement) || !(next instanceof HTMLElement)) return;
    const checked = next.hasAttribute("checked");
    if (old instanceof HTMLInputElement && old.hasAttribute("checked") !== checked) old.checked = checked;
    // A select shows the option the view marks selected when that mark moved; else what the user picked stays.
    const picked = (el: Element) => Array.from(el.querySelectorAll("option")).find((o) => o.hasAttribute("selected"))?.getAttribute("value");
    const pick = old instanceof HTMLSelectElement && picked(old) !== picked(next) ? picked(next) : undefined;
    for (const attr of Array.from(old.attributes)) if (attr.name !== "style" && !next.hasAttribute(attr.name)) old.removeAttribute(attr.name);
    for (const attr of Array.from(next.attributes)) {
        if (attr.name === "style") continue;
        const before = old.getAttribute(attr.name);
        if (before === attr.value) continue;
        old.setAttribute(attr.name, attr.value);
        // What the user typed or picked stays until the view itself renders another value.
        if (attr.name === "value" && old instanceof HTMLInputElement) old.value = attr.value;
    }
    if (old.style.cssText !== next.style.cssText) old.style.cssText = next.style.cssText;
    for (const event of EVENTS) {
        const handler = handlerOf(next, event);
        if (handlerOf(old, event) !== handler) setHandler(old, event, handler);
    }
    patch(old, Array.from(next.childNodes));
    if (pick !== undefined && pick !== null && old instanceof HTMLSelectElement) old.value = pick;
}
