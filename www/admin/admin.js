// The back office (docs/admin.md, "The back office"): a page of static
// files that speaks to checkoutd's /api/admin/ with the admin token, kept
// in this tab's sessionStorage only. Views by the URL's hash: #/ the orders
// (#/?state=new&cursor=12 a filtered page), #/orders/ID one order. Every
// text from the API goes into the page as text, never as HTML.

const TOKEN_KEY = "checkoutd.adminToken";
const main = document.getElementById("main");
const statusBox = document.getElementById("status");
const signOut = document.getElementById("sign-out");

const STATES = ["new", "fulfilled", "cancelled"];
const PAYMENT_STATES = ["awaiting_payment", "paid", "partially_refunded", "refunded", "cancelled"];
const FILTERS = ["state", "payment_state", "number", "from", "to"];
const FIELD_NAMES = {
  amount: "Amount", tracking: "Tracking number", state: "State",
  payment_state: "Payment state", number: "Number", from: "From",
  to: "To", limit: "Page size", cursor: "Page",
};

// An element: h("p", {class: "x"}, "text", child, ...). Strings become
// text nodes; null and false are left out.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function words(state) {
  return state ? String(state).replaceAll("_", " ") : "—";
}

function when(ts) {
  return ts ? ts.replace("T", " ").replace(/:\d\dZ$/, " UTC") : "—";
}

function digits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency })
      .resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

function money(minor, currency) {
  if (minor === null || minor === undefined) return "—";
  const d = digits(currency);
  try {
    return new Intl.NumberFormat("en", {
      style: "currency", currency, minimumFractionDigits: d,
    }).format(minor / 10 ** d);
  } catch {
    return `${(minor / 10 ** d).toFixed(d)} ${currency}`;
  }
}

// "12.5" in a currency of 2 digits: 1250; null when it is not an amount.
function parseAmount(text, currency) {
  const d = digits(currency);
  const m = /^(\d{1,15})(?:[.,](\d+))?$/.exec(text.trim());
  if (!m || (m[2] || "").length > d) return null;
  return Number(m[1]) * 10 ** d + Number((m[2] || "").padEnd(d, "0") || 0);
}

function say(text) {
  statusBox.textContent = "";
  // A fresh node, so that a screen reader announces a repeated message.
  statusBox.append(h("p", null, text));
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// One call of the admin API: {ok, status, data}; status 0 when checkoutd
// could not be reached. Writes carry an Idempotency-Key.
async function api(method, path, body, tok = token()) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${tok}` };
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (method !== "GET") {
    headers["Idempotency-Key"] = newKey();
    if (body) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  if ((res.headers.get("Content-Type") || "").includes("json")) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  return { ok: res.ok, status: res.status, data };
}

// What a refused or failed call means, in plain words.
function explain(r, action) {
  const p = r.data || {};
  if (r.status === 0) return `${action} failed: checkoutd could not be reached. Check that it runs, then try again.`;
  if (r.status === 401) return "The admin token was refused. Sign in again with the token in admin.token of checkoutd.conf.";
  if (r.status === 403) return "The back office answers only on the machine checkoutd runs on (127.0.0.1 or ::1).";
  if (r.status === 404) return `${action} failed: there is no such order.`;
  switch (p.code) {
    case "invalid_transition":
      return `${action} is not possible now: ${p.reason || p.detail || "the order's state does not allow it"}.`;
    case "payment_in_progress":
      return `${action} is not possible now: a payment of this order is still being processed by the provider. Try again in a minute.`;
    case "validation_failed":
      return `${action} was refused: ${(p.errors || [])
        .map((e) => `${FIELD_NAMES[e.field] || e.field} ${e.message}`)
        .join("; ")}.`;
    case "provider_error":
      return `${action} failed: the payment provider answered with an error. Reload the order to see where it stands, then try again.`;
    case "provider_timeout":
      return `${action} failed: the payment provider did not answer in time. Reload the order to see where it stands, then try again.`;
    case "idempotency_key_in_use":
      return `${action} is already running; wait for it to finish.`;
    case "busy":
    case "database_unavailable":
    case "too_many_attempts":
      return `${action} failed: checkoutd is busy or cannot reach its database. Try again in a moment.`;
    default:
      return `${action} failed: ${p.detail || p.title || `the server answered ${r.status}`}.`;
  }
}

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function focusMain() {
  main.focus();
}

// Sign in: the token is tried on the orders list before it is kept.
function signInView(message) {
  signOut.hidden = true;
  const error = h("p", { id: "token-error", class: "error", role: "alert" }, message || "");
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off",
    required: true, "aria-describedby": "token-help token-error",
  });
  const form = h("form", { id: "token-form", class: "card" },
    h("label", { for: "token" }, "Admin token"),
    input,
    h("p", { id: "token-help", class: "hint" },
      "The value of admin.token in checkoutd.conf. It is kept in this browser tab only, until you sign out or close it."),
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const tok = input.value.trim();
    if (!tok) return;
    error.textContent = "";
    const r = await api("GET", "/api/admin/orders?limit=1", null, tok);
    if (!r.ok) {
      error.textContent = explain(r, "Signing in");
      input.focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, tok);
    input.value = "";
    say("Signed in.");
    route();
  });
  show(h("h1", null, "Sign in"), form, error);
  input.focus();
}

function refused(r) {
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    signInView(explain(r, ""));
    return true;
  }
  return false;
}

function select(id, name, label, values, current) {
  return [
    h("label", { for: id }, label),
    h("select", { id, name },
      h("option", { value: "" }, "Any"),
      values.map((v) => h("option", { value: v, selected: v === current }, words(v)))),
  ];
}

function listHash(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `#/?${s}` : "#/";
}

async function listView(params) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || ""]));
  const form = h("form", { id: "filters", class: "filters", role: "search", "aria-label": "Filter orders" },
    h("div", null, ...select("f-state", "state", "State", STATES, filters.state)),
    h("div", null, ...select("f-payment", "payment_state", "Payment state", PAYMENT_STATES, filters.payment_state)),
    h("div", null, h("label", { for: "f-number" }, "Order number"),
      h("input", { id: "f-number", name: "number", inputmode: "numeric", maxlength: 9, value: filters.number, "aria-describedby": "f-number-help" }),
      h("span", { id: "f-number-help", class: "hint" }, "Whole or its first digits")),
    h("div", null, h("label", { for: "f-from" }, "Placed from (UTC)"),
      h("input", { id: "f-from", name: "from", type: "date", value: filters.from })),
    h("div", null, h("label", { for: "f-to" }, "Placed until (UTC)"),
      h("input", { id: "f-to", name: "to", type: "date", value: filters.to, "aria-describedby": "f-to-help" }),
      h("span", { id: "f-to-help", class: "hint" }, "That day included")),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Show orders"),
      h("a", { href: "#/", class: "button secondary" }, "Clear filters")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    location.hash = listHash(Object.fromEntries(FILTERS.map((k) => [k, String(data.get(k) || "").trim()])));
  });
  const error = h("p", { id: "list-error", class: "error", role: "alert" });
  show(h("h1", null, "Orders"), form, error, h("p", null, "Loading orders…"));

  const q = new URLSearchParams();
  for (const k of FILTERS) if (filters[k]) q.set(k, filters[k]);
  if (params.get("cursor")) q.set("cursor", params.get("cursor"));
  q.set("limit", "25");
  const r = await api("GET", `/api/admin/orders?${q}`);
  if (refused(r)) return;
  if (!r.ok) {
    error.textContent = explain(r, "Listing the orders");
    main.lastChild.remove();
    return;
  }
  const rows = r.data.orders.map((o) => h("tr", null,
    h("th", { scope: "row" }, h("a", { href: `#/orders/${o.id}` }, o.number || `#${o.id}`)),
    h("td", null, when(o.completed_at)),
    h("td", null, words(o.state)),
    h("td", null, words(o.payment_state)),
    h("td", null, words(o.shipping_state)),
    h("td", null, o.email || "—"),
    h("td", { class: "num" }, money(o.total, o.currency))));
  const table = rows.length
    ? tableOf("orders", "Orders, newest first", ["Number", "Placed", "State", "Payment", "Shipping", "Email", "Total"], rows)
    : h("p", { id: "orders-empty" },
      FILTERS.some((k) => filters[k]) ? "No orders match these filters." : "No orders yet.");
  const pages = h("nav", { class: "pages", "aria-label": "Pages" },
    params.get("cursor") ? h("a", { href: listHash(filters) }, "First page") : null,
    r.data.next_cursor ? h("a", { href: listHash({ ...filters, cursor: r.data.next_cursor }) }, "Next page") : null);
  main.lastChild.replaceWith(table, pages);
}

function dl(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([k, v, id]) => [h("dt", null, k), h("dd", { id }, v)]));
}

function tableOf(id, caption, heads, rows) {
  return h("div", { class: "scroll" }, h("table", { id },
    h("caption", null, caption),
    h("thead", null, h("tr", null, heads.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", null, rows)));
}

function eventRows(events) {
  return events.map((e) => h("tr", null,
    h("td", null, e.type), h("td", null, when(e.created_at)),
    h("td", null, e.delivered_at ? when(e.delivered_at) : "not yet"),
    h("td", { class: "num" }, String(e.attempts))));
}

// One operation's form: fields, a button, and its outcome.
function opForm(id, label, fields, hint, run) {
  const button = h("button", { type: "submit" }, label);
  const form = h("form", { id, class: "op" }, fields, button, hint ? h("p", { class: "hint" }, hint) : null);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    try {
      await run(form);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

async function orderView(id) {
  show(h("h1", null, "Order"), h("p", null, "Loading the order…"));
  const r = await api("GET", `/api/admin/orders/${id}`);
  if (refused(r)) return;
  if (!r.ok) {
    show(h("h1", null, "Order"), h("p", { class: "error", role: "alert" }, explain(r, "Showing the order")),
      h("p", null, h("a", { href: "#/" }, "Back to the orders")));
    return;
  }
  const { order: o, payments, events } = r.data;
  const cur = o.currency;
  const opError = h("p", { id: "op-error", class: "error", role: "alert" });

  // Runs an operation; on success the order is shown again with msg.
  async function operate(path, body, action, msg) {
    opError.textContent = "";
    const res = await api("POST", `/api/admin/orders/${o.id}/${path}`, body);
    if (refused(res)) return;
    if (!res.ok) {
      opError.textContent = explain(res, action);
      return;
    }
    await orderView(o.id);
    say(msg(res.data));
    document.getElementById("order-title")?.focus();
  }

  const tracking = h("input", { id: "op-tracking", name: "tracking", maxlength: 255, autocomplete: "off" });
  const amount = h("input", { id: "op-amount", name: "amount", inputmode: "decimal", autocomplete: "off", "aria-describedby": "op-amount-help" });
  const confirmBox = h("div", { id: "cancel-confirm", class: "confirm", hidden: true },
    h("p", null, "Cancel this order? An open card payment is cancelled and a paid one refunded in full; the held stock is released."),
    h("button", { type: "button", id: "cancel-yes", class: "danger", onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        await operate("cancel", null, "Cancelling the order", (d) => `Order cancelled. Payment state: ${words(d.payment_state)}.`);
      } finally {
        ev.target.disabled = false;
      }
    } }, "Yes, cancel the order"),
    h("button", { type: "button", class: "secondary", onclick: () => {
      confirmBox.hidden = true;
      document.getElementById("cancel-ask").focus();
    } }, "No, keep it"));

  const ops = h("section", { "aria-labelledby": "ops-title", class: "ops" },
    h("h2", { id: "ops-title" }, "Operations"),
    opError,
    opForm("op-mark-paid", "Mark paid", null, "When an offline payment (a bank transfer) has arrived.",
      () => operate("mark-paid", null, "Marking the order paid", (d) => `Marked paid. Payment state: ${words(d.payment_state)}.`)),
    opForm("op-ship", "Ship", [h("label", { for: "op-tracking" }, "Tracking number (optional)"), tracking], null,
      () => operate("ship", tracking.value.trim() ? { tracking: tracking.value.trim() } : null, "Shipping the order",
        (d) => `Shipped. Shipping state: ${words(d.shipping_state)}; order state: ${words(d.state)}.`)),
    opForm("op-refund", "Refund", [
      h("label", { for: "op-amount" }, `Amount to refund (${cur})`), amount,
      h("span", { id: "op-amount-help", class: "hint" }, "Leave it empty to refund all that is left, or write part of it, such as 5.00."),
    ], null, async () => {
      let body = null;
      if (amount.value.trim()) {
        const minor = parseAmount(amount.value, cur);
        if (!minor) {
          opError.textContent = `Refunding was refused: write the amount as a number such as 5.00, in ${cur}.`;
          amount.focus();
          return;
        }
        body = { amount: minor };
      }
      await operate("refund", body, "Refunding",
        (d) => `Refunded${body ? ` ${money(body.amount, cur)}` : " what was left"}. Payment state: ${words(d.payment_state)}.`);
    }),
    h("div", { class: "op" },
      h("button", { type: "button", id: "cancel-ask", onclick: () => {
        confirmBox.hidden = false;
        document.getElementById("cancel-yes").focus();
      } }, "Cancel order…"),
      confirmBox));

  const items = tableOf("lines", "Lines", ["Product", "Variant", "Quantity", "Unit price", "Total"],
    o.items.map((i) => h("tr", null, h("td", null, i.variant.product_name), h("td", null, `${i.variant.name} (${i.variant.code})`),
      h("td", { class: "num" }, String(i.quantity)), h("td", { class: "num" }, money(i.unit_price, cur)),
      h("td", { class: "num" }, money(i.total, cur)))));
  const shipments = o.shipments.length
    ? tableOf("shipments", "Shipments", ["Method", "State", "Tracking"],
      o.shipments.map((s) => h("tr", null, h("td", null, s.method ? s.method.name : "—"),
        h("td", null, words(s.state)), h("td", null, s.tracking || "—"))))
    : h("p", null, "Nothing to ship.");
  const pays = payments.length
    ? tableOf("payments", "Payments", ["Method", "State", "Amount", "Refunded", "Card", "Provider reference", "Refunds"],
      payments.map((p) => h("tr", null,
        h("td", null, `${p.method || "—"} (${p.gateway || "—"})`),
        h("td", null, words(p.state), p.decline_code ? ` (declined: ${p.decline_code})` : ""),
        h("td", { class: "num" }, money(p.amount, p.currency)),
        h("td", { class: "num" }, money(p.refunded, p.currency)),
        h("td", null, p.card_last4 ? `${p.card_brand || "card"} ····${p.card_last4}` : "—"),
        h("td", null, p.provider_ref || "—"),
        h("td", null, p.refunds.length
          ? h("ul", { class: "plain" }, p.refunds.map((f) => h("li", null, `${money(f.amount, p.currency)} on ${when(f.created_at)}${f.provider_ref ? ` (${f.provider_ref})` : ""}`)))
          : "none"))))
    : h("p", null, "No payments.");
  const eventsBody = h("tbody", null, eventRows(events));
  const more = h("p", null);
  let cursor = r.data.events_next_cursor;
  function moreButton() {
    more.replaceChildren(cursor ? h("button", { type: "button", id: "more-events", onclick: async () => {
      const e = await api("GET", `/api/admin/orders/${o.id}/events?cursor=${encodeURIComponent(cursor)}`);
      if (refused(e)) return;
      if (!e.ok) {
        more.replaceChildren(h("span", { class: "error", role: "alert" }, explain(e, "Showing more events")));
        return;
      }
      eventsBody.append(...eventRows(e.data.events));
      cursor = e.data.next_cursor;
      moreButton();
      say(`${e.data.events.length} more events shown.`);
    } }, "More events") : "");
  }
  moreButton();

  show(
    h("p", null, h("a", { href: "#/" }, "← All orders")),
    h("h1", { id: "order-title", tabindex: "-1" }, `Order ${o.number || o.id}`),
    dl([
      ["State", words(o.state), "order-state"],
      ["Payment state", words(o.payment_state), "payment-state"],
      ["Shipping state", words(o.shipping_state), "shipping-state"],
      ["Total", money(o.total, cur), "order-total"],
      ["Email", o.email || "—", "order-email"],
      ["Placed", when(o.completed_at), "order-placed"],
    ]),
    ops,
    h("section", { "aria-labelledby": "lines-title" }, h("h2", { id: "lines-title" }, "Lines and shipping"), items, shipments),
    h("section", { "aria-labelledby": "payments-title" }, h("h2", { id: "payments-title" }, "Payments"), pays),
    h("section", { "aria-labelledby": "events-title" }, h("h2", { id: "events-title" }, "Events"),
      tableOf("events", "Events, oldest first", ["Type", "Created", "Delivered", "Attempts"], []), more));
  document.querySelector("#events tbody").replaceWith(eventsBody);
}

function route() {
  if (!token()) {
    signInView();
    return;
  }
  signOut.hidden = false;
  const hash = location.hash || "#/";
  const m = /^#\/orders\/(\d+)$/.exec(hash);
  if (m) {
    orderView(m[1]);
    return;
  }
  const q = hash.indexOf("?");
  listView(new URLSearchParams(q >= 0 ? hash.slice(q + 1) : ""));
}

signOut.addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  say("Signed out.");
  signInView();
});
window.addEventListener("hashchange", () => {
  route();
  focusMain();
});
route();
