// The lab actions' form dialog: one modal <dialog> that every verb's form (actions.js) opens,
// built from a field list; a submit runs only when every field passes, posts through the
// caller's send() and shows the server's refusals next to the fields they name. Focus goes back
// to the control that opened it (or its successor after a re-render) when it closes.
import * as A from "./actions-model.js";
import { fill, findByKey, focusKey, h } from "./dom.js";

/** An idempotency key: one per opened form (a retried submit runs once on the server). */
export function randomKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * initDialog(ctx, {send}) -> {openForm(spec)}; send(node, verb, args, key, after) is actions.js's
 * POST, resolving {ok, status, body, what}.
 */
export function initDialog(ctx, { send }) {
  const { root } = ctx;
  let uid = 0;
  const dialog = h("dialog", { class: "nsm-lab-dialog", "aria-labelledby": "nsm-lab-title", "aria-describedby": "nsm-lab-intro" });
  root.append(dialog);
  let closing = null; // what to run when the dialog closes (the drag-to-move puts the node back)
  let returnTo = null; // the control that opened the form (or its key, when a patch re-rendered it)
  let returnKey = null;
  /** After the dialog closed (its "close" event comes a task later; our own closes call this at once). */
  function afterClose() {
    const fn = closing;
    closing = null;
    if (fn) fn();
    const back = returnTo && returnTo.isConnected ? returnTo : findByKey(root, returnKey);
    if (back) back.focus({ preventScroll: true });
    returnTo = null;
    returnKey = null;
  }
  function closeDialog(why) {
    if (dialog.open) dialog.close(why);
    afterClose();
  }
  dialog.addEventListener("close", afterClose);
  // Escape closes the dialog (natively); it must not also close the details on a phone.
  dialog.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") ev.stopPropagation();
  });

  function control(f, id, describedBy) {
    const common = { id, name: f.key, "aria-describedby": describedBy };
    if (f.type === "checkbox") return h("input", { ...common, type: "checkbox", checked: !!f.value });
    if (f.type === "select") {
      const sel = h("select", common, f.options.map((o) => h("option", { value: o.value, selected: o.value === f.value }, o.label)));
      return sel;
    }
    return h("input", {
      ...common,
      type: "text",
      value: f.value ?? "",
      autocomplete: "off",
      spellcheck: "false",
      inputmode: f.numeric ? "numeric" : null,
      placeholder: f.placeholder,
    });
  }

  /**
   * Open a form: {title, intro, node, verb, fields: [{key, label, type, value, options, help}],
   * fixed: {...values not typed}, submit: "label", danger, prepare(values) -> {verb, args} | {errors},
   * after(command) when it is done, onClose()}. Nothing is sent while a field is wrong.
   */
  function openForm(spec) {
    closeDialog("replaced");
    uid += 1;
    const key = randomKey(); // one per opened form: a retried submit runs once on the server
    const ids = {};
    const errorEls = {};
    const rows = spec.fields.map((f) => {
      const id = `nsm-lab-${uid}-${f.key.replace(/[^a-z0-9]/gi, "-")}`;
      ids[f.key] = id;
      const helpId = f.help ? `${id}-help` : null;
      const errId = `${id}-err`;
      errorEls[f.key] = h("p", { class: "nsm-lab-err", id: errId, hidden: true });
      const input = control(f, id, [helpId, errId].filter(Boolean).join(" "));
      if (f.type === "checkbox") {
        return h("div", { class: "nsm-lab-field check" }, input, h("label", { for: id }, f.label), f.help && h("p", { class: "nsm-lab-help", id: helpId }, f.help), errorEls[f.key]);
      }
      return h("div", { class: "nsm-lab-field" }, h("label", { for: id }, f.label), input, f.help && h("p", { class: "nsm-lab-help", id: helpId }, f.help), errorEls[f.key]);
    });
    const general = h("p", { class: "nsm-lab-err general", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: spec.danger ? "danger" : "primary" }, spec.submit || "Run");
    const cancel = h("button", { type: "button", class: "nsm-lab-cancel", value: "cancel" }, "Cancel");
    const form = h(
      "form",
      { class: "nsm-lab-form", novalidate: true },
      h("h2", { id: "nsm-lab-title" }, spec.title),
      h("div", { id: "nsm-lab-intro", class: "nsm-lab-intro" }, spec.intro || ""),
      rows,
      general,
      h("div", { class: "nsm-lab-buttons" }, cancel, submit),
    );
    cancel.addEventListener("click", () => closeDialog("cancel"));
    for (const f of spec.fields) if (f.onChange) form.elements[f.key].addEventListener("change", () => f.onChange(form.elements));

    function values() {
      const v = { ...(spec.fixed || {}) };
      for (const f of spec.fields) {
        const el = form.elements[f.key];
        v[f.key] = f.type === "checkbox" ? el.checked : el.value;
      }
      return v;
    }

    function showErrors(fieldErrors, generalText) {
      let first = null;
      for (const f of spec.fields) {
        const msg = fieldErrors[f.key];
        const el = form.elements[f.key];
        errorEls[f.key].hidden = !msg;
        errorEls[f.key].textContent = msg ? `${f.label}: ${msg}` : "";
        if (msg) el.setAttribute("aria-invalid", "true");
        else el.removeAttribute("aria-invalid");
        if (msg && !first) first = el;
      }
      const extra = [...(generalText || []), ...Object.entries(fieldErrors).filter(([k]) => !(k in ids)).map(([, m]) => m)];
      general.hidden = !extra.length;
      general.textContent = extra.join(" ");
      (first || (extra.length ? submit : null))?.focus();
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      const prepared = spec.prepare ? spec.prepare(values()) : A.buildArgs(spec.verb, values());
      if (prepared.errors) {
        showErrors(prepared.errors, []);
        return;
      }
      const verb = prepared.verb || spec.verb;
      submit.disabled = true;
      submit.textContent = "Sending…";
      const sent = await send(spec.node, verb, prepared.args, key, spec.after ? (cmd) => spec.after(cmd, values()) : null);
      submit.disabled = false;
      submit.textContent = spec.submit || "Run";
      if (sent.ok) {
        closeDialog("sent");
        return;
      }
      const r = A.explainSend(sent, spec.fields.map((f) => f.key));
      showErrors(r.fields, r.general);
    });

    fill(dialog, form);
    closing = spec.onClose || null;
    returnTo = document.activeElement && document.activeElement !== document.body ? document.activeElement : null;
    returnKey = focusKey(returnTo);
    dialog.showModal();
    const firstInput = spec.fields.length ? form.elements[spec.fields[0].key] : submit;
    firstInput.focus();
    if (firstInput.select && firstInput.type === "text") firstInput.select();
    return { dialog, form };
  }

  return { openForm };
}
