// The desk console (maps/console): a static shell that asks for the dispatcher's key once,
// keeps it in sessionStorage and reads and writes the day through the JSON API with
// `Authorization: Bearer`. Every text of the day reaches the page through textContent (the
// `el` helper below); nothing of the day is ever parsed as HTML here. The key is never put in
// a URL, a log or the page.
"use strict";
(() => {
  const CONFIG = JSON.parse(document.getElementById("fr-config").textContent);
  const KEY_ITEM = "fieldroute.console.key";
  const $ = (id) => document.getElementById(id);

  const state = {
    problemId: null, // the day opened or uploaded
    problem: null, // its JSON, as stored
    plan: null, // the plan shown (its latest version)
    planProblemId: null, // the day the shown plan was solved from, when known
    jobTimer: null,
    watching: null, // the solve job followed, {jobId, problemId}, until its plan opens
    pollTimer: null,
    polling: false,
    posting: false, // a batch of events is on its way
    uploading: false, // a day is on its way (JSON or sheets)
    typedAt: null, // the plan the dispatcher typed the time of the report for, if any
    selected: null, // the visit whose details are shown
    mapPlanId: null, // the plan whose map the frame shows
    mapView: null, // where the dispatcher moved that map, {planId, zoom, lat, lng}, if they did
  };

  // ---- building the page: text only ever through text nodes --------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else if (name === "style") Object.assign(node.style, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function say(message) {
    $("status").textContent = message;
  }

  function showProblems(title, errors) {
    const box = $("problems");
    $("problems-title").textContent = title || "";
    $("problems-list").replaceChildren(
      ...(errors || []).map((e) =>
        el("li", { text: [e.path, e.id ? `(${e.id})` : "", e.message].filter(Boolean).join(" ") })
      )
    );
    box.hidden = !title;
  }

  function fail(error) {
    if (error instanceof KeyRefused) return; // the key form says why
    if (error instanceof ApiError) showProblems(error.message, error.errors);
    else showProblems(`Something went wrong in the page: ${error}`, []);
    say("");
  }

  // ---- the key ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, detail, errors) {
      super(detail);
      this.status = status;
      this.errors = errors || [];
    }
  }
  class KeyRefused extends ApiError {}

  function key() {
    return sessionStorage.getItem(KEY_ITEM);
  }

  function showKeyForm(message) {
    sessionStorage.removeItem(KEY_ITEM);
    stopTimers();
    $("console").hidden = true;
    $("forget-key").hidden = true;
    $("key-section").hidden = false;
    $("key-message").textContent = message || "";
    clearLists();
    $("key-input").focus();
  }

  function showConsole() {
    $("key-section").hidden = true;
    $("key-message").textContent = "";
    $("console").hidden = false;
    $("forget-key").hidden = false;
    loadLists();
  }

  // ---- the API ----------------------------------------------------------------------------

  const UNREACHABLE = "The service cannot be reached; is `fieldroute serve` running?";

  async function api(method, path, options = {}) {
    const credential = key();
    if (!credential) {
      showKeyForm("Enter a dispatcher's key first.");
      throw new KeyRefused(401, "no key", []);
    }
    const headers = { Authorization: `Bearer ${credential}`, ...(options.headers || {}) };
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = typeof options.json === "string" ? options.json : JSON.stringify(options.json);
    } else if (options.form) {
      init.body = options.form;
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiError(0, UNREACHABLE, []);
    }
    if (response.status === 401 || response.status === 403) {
      let detail = "";
      try {
        detail = (await response.json()).detail || "";
      } catch (error) {
        detail = "";
      }
      showKeyForm(`The service refused this key (${response.status}: ${detail}). Enter a ` +
        "dispatcher's key.");
      throw new KeyRefused(response.status, detail, []);
    }
    if (!response.ok) {
      let body = {};
      try {
        body = await response.json();
      } catch (error) {
        body = {};
      }
      throw new ApiError(response.status, body.detail || `${response.status} ${response.statusText}`,
        body.errors);
    }
    return response;
  }

  const part = encodeURIComponent;

  // ---- the stored days and plans, to pick from ---------------------------------------------

  const stored = { problems: [], plans: [], asked: 0, loaded: false };

  function dayLabel(day) {
    const span = day.days > 1 ? `week of ${day.days} days from ${day.date}` : day.date;
    return `${span} · ${day.problem_id} · ${day.technicians} technicians, ` +
      `${day.visits} visits`;
  }

  function planLabel(plan) {
    return `${plan.date} · ${plan.plan_id} v${plan.version} · ${plan.status}`;
  }

  /** Offer ``items`` in ``select`` after a first, empty choice that says how many there are:
   * the one the dispatcher picked and has not opened yet stays chosen while it is there (a
   * list reloaded as a new version arrived chose the open one over it), else the open one,
   * else the one chosen before. */
  function fillList(select, items, idOf, label, head, open) {
    const ids = items.map(idOf);
    const picked = select.dataset.picked === "yes" && ids.includes(select.value);
    const chosen = picked ? select.value
      : ids.includes(open) ? open : ids.includes(select.value) ? select.value : "";
    select.replaceChildren(el("option", { value: "", text: head }),
      ...items.map((item) => el("option", { value: idOf(item), text: label(item) })));
    select.value = chosen;
  }

  function showLists() {
    if (!stored.loaded) return; // the first answer is on its way
    const { problems, plans } = stored;
    fillList($("open-problem"), problems, (day) => day.problem_id, dayLabel,
      problems.length ? `Choose a day (${problems.length} stored)`
        : "No day stored yet", state.problemId);
    fillList($("open-plan"), plans, (plan) => plan.plan_id, planLabel,
      plans.length ? `Choose a plan (${plans.length} stored)`
        : "No plan stored yet", state.plan ? state.plan.plan_id : null);
  }

  function clearLists() {
    stored.asked += 1; // an answer still on its way is not shown
    stored.loaded = false;
    stored.problems = [];
    stored.plans = [];
    $("open-problem").replaceChildren(el("option", { value: "", text:
      "Sign in to see the stored days" }));
    $("open-plan").replaceChildren(el("option", { value: "", text:
      "Sign in to see the stored plans" }));
    $("open-note").textContent = "";
  }

  /** Ask the service for its newest days and plans and offer them in the two lists. Never
   * throws: without the lists a day or a plan can still be opened by its id. */
  async function loadLists() {
    const asked = ++stored.asked;
    const query = `?limit=${CONFIG.list_limit}`;
    let problems;
    let plans;
    try {
      [problems, plans] = await Promise.all([
        api("GET", `/v1/problems${query}`).then((response) => response.json()),
        api("GET", `/v1/plans${query}`).then((response) => response.json()),
      ]);
    } catch (error) {
      if (asked === stored.asked && !(error instanceof KeyRefused)) {
        $("open-note").textContent = `The stored days and plans could not be listed ` +
          `(${error.message}); type an id instead.`;
      }
      return;
    }
    if (asked !== stored.asked) return; // a newer answer is on its way, or the key went
    stored.problems = problems;
    stored.plans = plans;
    stored.loaded = true;
    showLists();
    const full = problems.length >= CONFIG.list_limit || plans.length >= CONFIG.list_limit;
    $("open-note").textContent = full ? `The newest ${CONFIG.list_limit} are listed; open an ` +
      "older one by typing its id." : "";
  }

  // ---- times --------------------------------------------------------------------------------

  /** Minutes after the plan day's midnight, in the plan's own offset. */
  function minutesOf(iso) {
    if (!iso) return null;
    const found = /T(\d\d):(\d\d)/.exec(iso);
    if (!found) return null;
    const day = iso.slice(0, 10);
    const shift = state.plan && day > state.plan.date ? 1440 : 0;
    return shift + Number(found[1]) * 60 + Number(found[2]);
  }

  function clock(iso) {
    if (!iso) return "";
    const found = /T(\d\d:\d\d)/.exec(iso);
    return found ? found[1] : String(iso);
  }

  /** A moment as its clock time, with its date when it is not ``plan``'s (a move across the
   * dates of a week). */
  function dated(iso, plan) {
    if (!iso) return "";
    const day = String(iso).slice(0, 10);
    return day !== plan.date && /^\d{4}-\d\d-\d\d$/.test(day) ? `${day} ${clock(iso)}`
      : clock(iso);
  }

  function clockMinutes(text) {
    const found = /^(\d\d):(\d\d)$/.exec(text || "");
    return found ? Number(found[1]) * 60 + Number(found[2]) : null;
  }

  function hhmm(minutes) {
    const m = ((Math.round(minutes) % 1440) + 1440) % 1440;
    return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  }

  function nowIn(timezone) {
    try {
      const format = new Intl.DateTimeFormat("en-GB", {
        timeZone: timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
      return format.format(new Date());
    } catch (error) {
      return hhmm(new Date().getHours() * 60 + new Date().getMinutes());
    }
  }

  // ---- the day ------------------------------------------------------------------------------

  function band() {
    const policy = state.problem && state.planProblemId === state.problemId
      ? state.problem.policy || {} : {};
    return policy.early_arrival_min || CONFIG.early_band_min;
  }

  function visitOfDay(visitId) {
    if (!state.problem || state.planProblemId !== state.problemId) return null;
    return (state.problem.visits || []).find((v) => v.id === visitId) || null;
  }

  // "1 stop", "2 stops": a count as a person writes it (dispatch.units.counted says the same).
  function counted(count, noun) {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
  }

  // A rate as a whole percentage, rounded down as every rate is (dispatch.units.percent).
  function percent(rate) {
    return `${Math.floor(rate * 100 + 1e-9)}%`;
  }

  function technicianName(technicianId) {
    if (!state.problem || state.planProblemId !== state.problemId) return "";
    const found = (state.problem.technicians || []).find((t) => t.id === technicianId);
    return found ? found.name || "" : "";
  }

  async function openProblem(problemId) {
    const response = await api("GET", `/v1/problems/${part(problemId)}`);
    state.problem = await response.json();
    state.problemId = problemId;
    delete $("open-problem").dataset.picked; // the list shows the open day again
    showLists();
    const day = state.problem;
    // A horizon (several days) has no date of its own: its first and its number of days.
    const when = day.horizon ? `week of ${day.horizon.days} days from ${day.horizon.start}`
      : day.date;
    $("day-summary").textContent = `${day.horizon ? "Week" : "Day"} ${problemId}: ${when} ` +
      `(${day.timezone || "UTC"}), ${(day.technicians || []).length} technicians, ` +
      `${(day.visits || []).length} visits.`;
    $("solve-limit").value = String(Math.round((day.policy || {}).time_limit_s ||
      CONFIG.time_limit_s));
    $("day-loaded").hidden = false;
    $("job").hidden = true;
  }

  /** The submit handler of an upload form: ``upload`` runs unless a day is already on its
   * way, so a double click on an upload button stores one day, not two. */
  function uploading(upload) {
    return async (event) => {
      event.preventDefault();
      if (state.uploading) return;
      state.uploading = true;
      try {
        await upload();
      } finally {
        state.uploading = false;
      }
    };
  }

  async function uploadJson() {
    const file = $("json-file").files[0];
    if (!file) return;
    showProblems("", []);
    say(`Uploading ${file.name}…`);
    const text = await file.text();
    const created = await (await api("POST", "/v1/problems", { json: text })).json();
    await openProblem(created.problem_id);
    say(`Day ${created.problem_id} stored: ${created.visits} visits, ` +
      `${created.technicians} technicians. Plan it when ready.`);
    $("solve-limit").focus();
    loadLists();
  }

  async function uploadSheets() {
    const form = new FormData();
    form.append("date", $("sheets-date").value);
    form.append("timezone", $("sheets-timezone").value);
    for (const name of ["technicians", "visits", "workbook"]) {
      const file = $(`sheets-${name}`).files[0];
      if (file) form.append(name, file, file.name);
    }
    showProblems("", []);
    say("Uploading the sheets…");
    const created = await (await api("POST", "/v1/problems", { form })).json();
    await openProblem(created.problem_id);
    say(`Day ${created.problem_id} stored from the sheets: ${created.visits} visits.`);
    $("solve-limit").focus();
    loadLists();
  }

  async function openPickedDay(event) {
    event.preventDefault();
    showProblems("", []);
    const problemId = $("open-problem").value;
    if (!problemId) return;
    await openProblem(problemId);
    say(`Day ${problemId} opened.`);
  }

  async function openPickedPlan(event) {
    event.preventDefault();
    showProblems("", []);
    const planId = $("open-plan").value;
    if (planId) await openPlanAndDay(planId);
  }

  /** Open a day, a plan or a week by an id typed in: ``wk_…`` is a week; one the lists know,
   * else ``pb_…`` is a day and anything else a plan. */
  async function openTyped(event) {
    event.preventDefault();
    showProblems("", []);
    const id = $("open-id").value.trim();
    if (!id) return;
    if (id.startsWith("wk_")) {
      await openWeek(id);
      $("open-id").value = "";
      return;
    }
    const isDay = stored.problems.some((day) => day.problem_id === id) ||
      (!stored.plans.some((plan) => plan.plan_id === id) && id.startsWith("pb_"));
    if (isDay) {
      await openProblem(id);
      say(`Day ${id} opened.`);
    } else {
      await openPlanAndDay(id);
    }
    $("open-id").value = "";
  }

  /** Open a plan and, when the list of plans says which day it was planned for, that day
   * beside it (its names, visits and policy); else the open day counts as the plan's only
   * when it fits (``dayFits``). */
  async function openPlanAndDay(planId) {
    const listed = stored.plans.find((plan) => plan.plan_id === planId);
    let problemId = listed ? listed.problem_id : null;
    if (problemId && problemId !== state.problemId) {
      try {
        await openProblem(problemId);
      } catch (error) {
        if (!(error instanceof ApiError) || error instanceof KeyRefused || error.status !== 404) {
          throw error;
        }
        problemId = null; // the day is gone: show the plan without it
      }
    }
    state.planProblemId = problemId;
    await openPlan(planId);
  }

  // ---- solving ------------------------------------------------------------------------------

  async function solve(event) {
    event.preventDefault();
    // One job per click: the button is disabled from the click until the job ends, and a
    // second submit meanwhile (a double click) starts nothing.
    if ($("solve-button").disabled) return;
    $("solve-button").disabled = true;
    showProblems("", []);
    const limit = Number($("solve-limit").value);
    let job;
    try {
      job = await (await api("POST", "/v1/plans", {
        json: { problem_id: state.problemId, time_limit_s: limit },
      })).json();
    } catch (error) {
      $("solve-button").disabled = false;
      throw error;
    }
    $("job").hidden = false;
    $("job-progress").max = limit;
    say(`Solving (job ${job.id})…`);
    showJob(job);
    watchJob(job.id, job.problem_id);
  }

  function showJob(job) {
    const progress = job.progress || {};
    $("job-state").textContent = job.state;
    $("job-elapsed").textContent = `${(progress.elapsed_s || 0).toFixed(1)} s`;
    $("job-placed").textContent = progress.visits_placed === null ||
      progress.visits_placed === undefined ? "–"
      : `${progress.visits_placed} of ${progress.visits_total}`;
    $("job-cost").textContent = progress.best_cost === null ||
      progress.best_cost === undefined ? "–" : String(progress.best_cost);
    const bar = $("job-progress");
    bar.value = job.state === "done" ? bar.max : Math.min(progress.elapsed_s || 0, bar.max);
  }

  /** Follow a solve job until its plan opens. A poll that fails for want of the service (a
   * restart, a moment without network) is tried again, the problem shown meanwhile: one
   * failed poll ended the watch, the plan stored and never shown, and "Plan the day" enabled
   * for a second solve. A key refused stops the watch until a key is given again
   * (``state.watching`` says which job: it was forgotten). */
  function watchJob(jobId, problemId) {
    clearTimeout(state.jobTimer);
    state.watching = { jobId, problemId };
    const tick = async () => {
      try {
        const job = await (await api("GET", `/v1/jobs/${part(jobId)}`)).json();
        reached();
        showJob(job);
        if (job.state === "done") {
          state.watching = null;
          $("solve-button").disabled = false;
          if (String(job.plan_id).startsWith("wk_")) {
            await openWeek(job.plan_id);
          } else {
            state.planProblemId = problemId;
            await openPlan(job.plan_id);
          }
          loadLists();
          return;
        }
        if (job.state === "failed") {
          state.watching = null;
          $("solve-button").disabled = false;
          showProblems(`The solve failed: ${job.error || "no reason given"}`, []);
          say("");
          return;
        }
        state.jobTimer = setTimeout(tick, CONFIG.job_poll_ms);
      } catch (error) {
        fail(error);
        if (error instanceof KeyRefused) return; // watched again once a key is given
        if (error instanceof ApiError && (error.status === 0 || error.status >= 500)) {
          state.jobTimer = setTimeout(tick, CONFIG.job_poll_ms * 4); // the service is back soon
          return;
        }
        state.watching = null;
        $("solve-button").disabled = false;
      }
    };
    state.jobTimer = setTimeout(tick, CONFIG.job_poll_ms);
  }

  /** The service answered: a "cannot be reached" shown before is over (it stayed up for good
   * after a restart, the checks succeeding again under it). */
  function reached() {
    if ($("problems-title").textContent === UNREACHABLE) showProblems("", []);
  }

  // ---- the plan -----------------------------------------------------------------------------

  /** A week a solve made: its first day with a plan opened, every day's plan named (each is
   * an ordinary plan, in the list of stored plans). The horizon is no day's own problem. */
  async function openWeek(weekId) {
    const week = await (await api("GET", `/v1/weeks/${part(weekId)}`)).json();
    const days = week.days.filter((day) => day.plan_id);
    if (!days.length) {
      say(`Week ${weekId}: nobody works on any of its dates.`);
      return;
    }
    state.planProblemId = null;
    await openPlan(days[0].plan_id);
    say(`Week ${weekId} planned: ` +
      days.map((day) => `${day.date} ${day.plan_id}`).join(", ") +
      `. Showing ${days[0].date}; open another day from the stored plans.`);
    // The visits no day of the week took are in no day plan: said here, or nowhere (a week
    // of 45 such visits showed "Unassigned (0)").
    const left = week.unassigned || [];
    if (left.length) {
      showProblems(`${counted(left.length, "visit")} of week ${weekId} fit no day of it: ` +
        "book them on another week, or change the day", left.map((item) => ({
        path: item.visit_id, message: `${item.code}: ${item.reason}` })));
    }
  }

  async function openPlan(planId) {
    const plan = await (await api("GET", `/v1/plans/${part(planId)}`)).json();
    state.mapView = null; // a plan opened shows its whole day; its next versions, the view kept
    showPlan(plan);
    delete $("open-plan").dataset.picked; // the list shows the open plan again
    showLists();
    say(`Plan ${plan.plan_id}, version ${plan.version}: ${plan.kpis.assigned} of ` +
      `${plan.kpis.visits} visits assigned.`);
    startPolling();
  }

  /** Whether the open day is the one ``plan`` was made from, as far as can be told: the same
   * date, and every technician and visit of the plan in it. (A plan does not name its day.) */
  function dayFits(plan, problem) {
    if (!problem || problem.date !== plan.date) return false;
    const technicians = new Set((problem.technicians || []).map((t) => t.id));
    const visits = new Set((problem.visits || []).map((v) => v.id));
    return plan.routes.every((route) => technicians.has(route.technician_id) &&
        route.stops.every((stop) => visits.has(stop.visit_id))) &&
      plan.unassigned.every((item) => visits.has(item.visit_id));
  }

  /** Where the keyboard's focus is, to find again once the plan is drawn anew: a visit's
   * button (its visit and its section) or a control with an id; null on the page itself. */
  function focusPlace() {
    const active = document.activeElement;
    if (!active || active === document.body) return null;
    const section = active.closest("section");
    return { visit: active.dataset.visit || null, id: active.id || null,
      section: section ? section.id : null };
  }

  /** Give the focus back to the control ``place`` names when drawing the plan dropped it
   * (the timeline's and the tables' buttons are made anew: a keyboard user was thrown to the
   * top of the page at each new version); to its section, when it takes the focus, if the
   * control is gone. */
  function restoreFocus(place) {
    const active = document.activeElement;
    if (!place || (active && active !== document.body && active.isConnected)) return;
    const section = place.section ? $(place.section) : null;
    let target = place.id ? $(place.id) : null;
    if (!target && place.visit && section) {
      target = [...section.querySelectorAll("[data-visit]")]
        .find((node) => node.dataset.visit === place.visit) || null;
    }
    if (!target && section && section.hasAttribute("tabindex")) target = section;
    if (target) target.focus({ preventScroll: true });
  }

  function showPlan(plan) {
    const focused = focusPlace();
    if (state.planProblemId === null && dayFits(plan, state.problem)) {
      state.planProblemId = state.problemId;
    }
    // Another plan: the call list shown is the other plan's until this one's arrives.
    if (!state.plan || state.plan.plan_id !== plan.plan_id) renderCalls(plan, null);
    state.plan = plan;
    $("plan-area").hidden = false;
    $("plan-title").textContent = `Plan ${plan.plan_id} · version ${plan.version} · ${plan.date}` +
      ` (${plan.timezone})`;
    const k = plan.kpis;
    $("plan-kpis").textContent = `${k.assigned}/${k.visits} visits assigned · on time ` +
      `${percent(k.on_time_rate)} · appointments in the band ` +
      `${k.appointments_in_band}/${k.appointment_stops} · ` +
      // Every urgent fault with a report time, served or not: one left out is not in time.
      (k.urgent_faults ? `urgent within response ${k.urgent_reached_in_time}/` +
        `${k.urgent_faults} (${percent(k.urgent_within_response)}) · ` : "") +
      `${k.distance_km.toFixed(1)} km · ` +
      `${counted(k.technicians_used, "technician")} · ` +
      `status ${plan.status}` +
      (plan.at ? ` · re-planned at ${clock(plan.at) || plan.at}` : "");
    const [near, far] = band();
    $("band-legend").textContent = `arrival band (${near}–${far} min before an appointment)`;
    renderTimeline(plan);
    renderUnassigned(plan);
    renderChanges(plan);
    loadCalls(plan);
    fillEventForms(plan);
    if (state.selected) showDetails(state.selected);
    restoreFocus(focused);
    loadMap(plan);
  }

  // The minutes of the day by which an urgent fault must be reached: its report time and the
  // day's policy.urgent_response_min (120 by default); null for another visit.
  function urgentDeadline(visit) {
    if (!visit || !visit.reported_at) return null;
    const policy = state.problem && state.planProblemId === state.problemId
      ? state.problem.policy || {} : {};
    const reported = /(\d\d):(\d\d)$/.exec(visit.reported_at);
    if (!reported) return null;
    const response = policy.urgent_response_min ?? 120;
    return Number(reported[1]) * 60 + Number(reported[2]) + response;
  }

  function stopState(stop) {
    const visit = visitOfDay(stop.visit_id);
    const window = stop.window || (visit && visit.window) || null;
    const appointment = stop.appointment || (visit && visit.appointment) || null;
    const arrival = minutesOf(stop.actual_arrival) ?? minutesOf(stop.arrival);
    let late = stop.late_min > 0;
    let risk = false;
    if (appointment) {
      const door = clockMinutes(appointment) - band()[0];
      if (arrival !== null && arrival > clockMinutes(appointment)) late = true;
      else if (arrival !== null && arrival > door && stop.status === "planned") risk = true;
    } else if (window) {
      // Reached after the window's end is late, as the time card counts it: read from the
      // planned start, a stop reached at 12:20 for a window to 12:00, only Arrived and Done
      // tapped, showed "done ✓".
      const end = clockMinutes(window.end);
      const reached = minutesOf(stop.actual_arrival) ?? minutesOf(stop.actual_start);
      const start = minutesOf(stop.service_start);
      if (reached !== null && reached > end) late = true;
      else if (reached === null && start !== null && start > end) late = true;
      else if (start !== null && end - start < CONFIG.at_risk_min && stop.status === "planned") {
        risk = true;
      }
    }
    // An urgent fault reached after its response time is late whatever its window.
    const deadline = urgentDeadline(visit);
    const reached = minutesOf(stop.actual_arrival) ?? minutesOf(stop.actual_start) ?? arrival;
    if (deadline !== null && reached !== null && reached > deadline) late = true;
    if (late) return { css: "is-late", mark: "✕", text: "late" };
    // Reported not completed (no part, nobody home): to book again, not done.
    const unfinished = ((state.plan && state.plan.unassigned) || []).some(
      (item) => item.visit_id === stop.visit_id && item.code === "not_completed");
    if (unfinished) return { css: "is-unfinished", mark: "↺", text: "not completed" };
    if (stop.status === "done") return { css: "is-done", mark: "✓", text: "done" };
    if (stop.status === "in_progress") return { css: "is-progress", mark: "▶", text: "in progress" };
    if (stop.status === "arrived") return { css: "is-arrived", mark: "●", text: "arrived" };
    if (risk) return { css: "is-risk", mark: "!", text: "at risk" };
    return { css: "is-planned", mark: "", text: "planned" };
  }

  function span(plan) {
    let low = Infinity;
    let high = -Infinity;
    const see = (minutes) => {
      if (minutes === null || minutes === undefined) return;
      low = Math.min(low, minutes);
      high = Math.max(high, minutes);
    };
    for (const route of plan.routes) {
      see(minutesOf(route.start_time));
      see(minutesOf(route.end_time));
      for (const stop of route.stops) {
        see(minutesOf(stop.arrival) - stop.travel_min);
        for (const field of ["actual_arrival", "actual_start", "actual_departure", "departure"]) {
          see(minutesOf(stop[field]));
        }
        if (stop.appointment) see(clockMinutes(stop.appointment) - band()[1]);
      }
      for (const pause of route.breaks) see(minutesOf(pause.end));
    }
    if (!Number.isFinite(low)) return null;
    return { low: Math.floor(low / 60) * 60, high: Math.max(Math.ceil(high / 60) * 60, low + 60) };
  }

  function renderTimeline(plan) {
    const box = $("timeline");
    // Technicians of the day with no route get a row too: who is free is worth seeing.
    // Those the plan could give no route at all say why (`technicians_without_route`).
    const routed = new Set(plan.routes.map((route) => route.technician_id));
    const without = new Map((plan.technicians_without_route || [])
      .map((item) => [item.technician_id, item.reason]));
    const idleIds = state.problem && state.planProblemId === state.problemId
      ? (state.problem.technicians || []).map((t) => t.id).filter((id) => !routed.has(id))
      : [];
    for (const id of without.keys()) if (!idleIds.includes(id)) idleIds.push(id);
    const idle = idleIds.map((id) => ({ technician_id: id, stops: [], breaks: [], distance_km: 0 }));
    const used = [...plan.routes, ...idle];
    const range = span(plan);
    if (!range) {
      box.replaceChildren(el("p", { class: "fr-note", text: "No technician has work in this plan." }));
      return;
    }
    const total = range.high - range.low;
    const at = (minutes) => `${((minutes - range.low) / total) * 100}%`;
    const wide = (from, to) => `${(Math.max(to - from, 0) / total) * 100}%`;
    const axis = el("div", { class: "fr-track" });
    for (let hour = range.low; hour < range.high; hour += 60) {
      axis.append(el("span", { class: "fr-tick", style: { left: at(hour) }, text: hhmm(hour) }));
    }
    const rows = [el("div", { class: "fr-row fr-axis", "aria-hidden": "true" },
      el("div", { class: "fr-who" }), axis)];
    const [near, far] = band();
    for (const route of used) {
      const track = el("div", { class: "fr-track" });
      for (const pause of route.breaks) {
        const from = minutesOf(pause.start);
        const to = minutesOf(pause.end);
        track.append(el("div", {
          class: "fr-break", style: { left: at(from), width: wide(from, to) },
          title: `break ${clock(pause.start)}–${clock(pause.end)}`, "aria-hidden": "true",
        }));
      }
      route.stops.forEach((stop, index) => {
        const arrival = minutesOf(stop.arrival);
        if (stop.travel_min > 0) {
          track.append(el("div", {
            class: "fr-travel", "aria-hidden": "true", title: `travel ${stop.travel_min} min`,
            style: { left: at(arrival - stop.travel_min), width: wide(arrival - stop.travel_min, arrival) },
          }));
        }
        if (stop.appointment) {
          const appointment = clockMinutes(stop.appointment);
          track.append(el("div", {
            class: "fr-band", "aria-hidden": "true",
            title: `arrive ${hhmm(appointment - far)}–${hhmm(appointment - near)} ` +
              `for ${stop.appointment}`,
            style: { left: at(appointment - far), width: wide(appointment - far, appointment - near) },
          }));
        }
        const start = minutesOf(stop.service_start);
        const end = minutesOf(stop.departure);
        const shown = stopState(stop);
        const label = `${stop.visit_id}, ${stop.customer || "no name"}, stop ${index + 1} of ` +
          `${route.technician_id}, ${clock(stop.service_start)} to ${clock(stop.departure)}, ` +
          `${shown.text}` + (stop.late_min > 0 ? ` by ${stop.late_min} min` : "");
        const bar = el("button", {
          type: "button", class: `fr-bar ${shown.css}`, "data-visit": stop.visit_id,
          "aria-label": label, title: label,
          style: { left: at(start), width: wide(start, end) },
          onclick: () => chooseVisit(stop.visit_id),
        }, `${shown.mark}${shown.mark ? " " : ""}${stop.visit_id}`);
        if (state.selected === stop.visit_id) bar.classList.add("is-selected");
        track.append(bar);
        const actualFrom = minutesOf(stop.actual_arrival) ?? minutesOf(stop.actual_start);
        if (actualFrom !== null) {
          const actualTo = minutesOf(stop.actual_departure) ?? Math.max(end, actualFrom + 1);
          track.append(el("div", {
            class: "fr-actual", "aria-hidden": "true",
            title: `actual ${clock(stop.actual_arrival || stop.actual_start)}–` +
              `${stop.actual_departure ? clock(stop.actual_departure) : "…"}`,
            style: { left: at(actualFrom), width: wide(actualFrom, actualTo) },
          }));
        }
      });
      const noRoute = without.get(route.technician_id);
      if (noRoute) {
        track.append(el("p", { class: "fr-no-route", text: `No route: ${noRoute}` }));
      }
      const name = technicianName(route.technician_id);
      rows.push(el("div", {
        class: "fr-row", role: "group",
        "aria-label": `${route.technician_id}${name ? ` ${name}` : ""}: ` +
          (noRoute ? `no route, ${noRoute}` : counted(route.stops.length, "stop")),
      }, el("div", { class: "fr-who" }, el("strong", { text: route.technician_id }),
        name ? el("small", { text: name }) : null,
        el("small", { text: `${counted(route.stops.length, "stop")} · ` +
          `${route.distance_km.toFixed(1)} km` })),
      track));
    }
    box.replaceChildren(el("div", { class: "fr-tl" }, rows));
  }

  function findStop(visitId) {
    for (const route of state.plan.routes) {
      const stop = route.stops.find((s) => s.visit_id === visitId);
      if (stop) return { route, stop };
    }
    return null;
  }

  function promiseText(stop) {
    if (stop.promised_window) {
      return `${clock(stop.promised_window.start)}–${clock(stop.promised_window.end)}`;
    }
    return "";
  }

  /** A visit clicked (or chosen with the keyboard): its details, brought into view. Below
   * the timeline of a big day (31 technicians) they were far below the page's view, and the
   * click looked like it did nothing. The least scroll that shows them; the focus stays. */
  function chooseVisit(visitId) {
    showDetails(visitId);
    $("details").scrollIntoView({ block: "nearest" });
  }

  function showDetails(visitId) {
    state.selected = visitId;
    for (const bar of document.querySelectorAll(".fr-bar.is-selected")) {
      bar.classList.remove("is-selected");
    }
    for (const bar of document.querySelectorAll(".fr-bar")) {
      if (bar.dataset.visit === visitId) bar.classList.add("is-selected");
    }
    const found = findStop(visitId);
    const visit = visitOfDay(visitId);
    const missing = state.plan.unassigned.find((u) => u.visit_id === visitId);
    const rows = [["visit", visitId]];
    const phone = (found && found.stop.phone) || (visit && visit.phone) || "";
    if (found) {
      const { route, stop } = found;
      const shown = stopState(stop);
      rows.push(
        ["customer", stop.customer], ["address", stop.address], ["phone", phone],
        ["kind", stop.kind],
        ["technician", `${route.technician_id} ${technicianName(route.technician_id)}`.trim()],
        ["status", shown.text + (stop.late_min > 0 ? ` (${stop.late_min} min)` : "")],
        ["agreed", stop.appointment ? `appointment ${stop.appointment}`
          : stop.window ? `window ${stop.window.start}–${stop.window.end}` : "any time"],
        ["promised window", promiseText(stop)],
        ["planned arrival", clock(stop.arrival)],
        ["service", `${clock(stop.service_start)}–${clock(stop.departure)}`],
        ["travel before", `${stop.travel_min} min, ${stop.distance_km} km`],
        ["early", stop.early_min ? `${stop.early_min} min` : ""],
        ["actual arrival", clock(stop.actual_arrival)],
        ["actual start", clock(stop.actual_start)],
        ["actual departure", clock(stop.actual_departure)],
      );
    } else if (visit) {
      rows.push(["customer", visit.customer || ""], ["address", visit.address || ""],
        ["phone", phone]);
    }
    if (missing) rows.push(["unassigned", `${missing.code}: ${missing.reason}`]);
    if (visit && visit.notes) rows.push(["notes", visit.notes]);
    const list = $("details-list");
    list.replaceChildren(...rows.filter(([, value]) => value).flatMap(([name, value]) => {
      let shown = String(value);
      if (name === "phone") {
        const link = el("a", { text: shown });
        link.setAttribute("href", `tel:${shown.replace(/[^0-9+]/g, "")}`);
        return [el("dt", { text: name }), el("dd", {}, link)];
      }
      return [el("dt", { text: name }), el("dd", { text: shown })];
    }));
    $("details-title").textContent = `Visit ${visitId}`;
    $("details-hint").hidden = true;
  }

  function renderUnassigned(plan) {
    const body = $("unassigned-table").tBodies[0];
    body.replaceChildren(...plan.unassigned.map((item) => {
      const visit = visitOfDay(item.visit_id);
      return el("tr", {},
        el("td", {}, el("button", {
          type: "button", class: "fr-linkish", text: item.visit_id, "data-visit": item.visit_id,
          "aria-label": `details of ${item.visit_id}`, onclick: () => chooseVisit(item.visit_id),
        })),
        el("td", { text: visit ? visit.customer || "" : "" }),
        el("td", { text: item.code }),
        el("td", { text: item.reason }));
    }));
    $("unassigned-title").textContent = `Unassigned (${plan.unassigned.length})`;
    $("unassigned-table").hidden = plan.unassigned.length === 0;
    $("unassigned-none").hidden = plan.unassigned.length !== 0;
  }

  /** What to tell a customer on the call list: the window ``plan`` promises them, or that the
   * visit cannot be served today. A visit in ``unassigned`` is not served, even when its
   * attempt stays on a route (one reported ``not_completed``: to be booked again). */
  function tellCustomer(plan, visitId, change) {
    if (change && change.new_date && change.new_date !== plan.date && change.new_window) {
      // Moved to another date of its week: that day's window, not "another day" to find.
      return `moved to ${change.new_date}, between ${clock(change.new_window.start)} and ` +
        `${clock(change.new_window.end)} (${change.new_technician || "-"})`;
    }
    const found = findStop(visitId);
    const unserved = plan.unassigned.some((item) => item.visit_id === visitId);
    if (found && found.stop.promised_window && !unserved) {
      return `between ${clock(found.stop.promised_window.start)} and ` +
        `${clock(found.stop.promised_window.end)} (${found.route.technician_id})`;
    }
    return "cannot be served today: offer another day";
  }

  function renderChanges(plan) {
    const changes = plan.changes || [];
    $("changes-title").textContent = `Changes in version ${plan.version} (${changes.length})`;
    $("changes-table").tBodies[0].replaceChildren(...changes.map((change) => el("tr", {},
      el("td", { text: change.visit_id }),
      el("td", { text: `${change.old_technician || "-"} → ${change.new_technician || "-"}` }),
      el("td", { text: `${dated(change.old_arrival, plan) || "-"} → ` +
        `${dated(change.new_arrival, plan) || "-"}` }),
      el("td", { text: change.moved_min === null || change.moved_min === undefined ? ""
        : `${change.moved_min > 0 ? "+" : ""}${change.moved_min} min` }),
      el("td", { text: change.notify ? "yes" : "" }),
      el("td", { text: change.reason }))));
    $("changes-table").hidden = changes.length === 0;
    $("changes-none").hidden = changes.length !== 0;
  }

  /** The call list: every customer a re-plan of ``plan`` up to its version asked to call, as
   * the service lists them (``GET …/changes?notify=true``: every version's, not only this
   * one's), once each as their latest change says, and what ``plan`` gives them now. */
  async function loadCalls(plan) {
    let found;
    try {
      const path = `/v1/plans/${part(plan.plan_id)}/changes?notify=true`;
      found = await (await api("GET", path)).json();
    } catch (error) {
      if (error instanceof KeyRefused || state.plan !== plan) return;
      $("calls-none").textContent = `The call list could not be loaded (${error.message}); ` +
        "it is asked again with the next version.";
      $("calls-none").hidden = false;
      return;
    }
    if (state.plan !== plan) return; // a newer version is being shown
    const calls = new Map();
    for (const version of found.versions) {
      if (version.version > plan.version) continue;
      for (const change of version.changes) {
        calls.delete(change.visit_id); // listed once, where its latest call puts it
        calls.set(change.visit_id, change);
      }
    }
    renderCalls(plan, [...calls.values()]);
  }

  /** Show ``calls`` (changes to call about); ``null``: the list is on its way. */
  function renderCalls(plan, calls) {
    if (calls === null) {
      $("calls-title").textContent = "Call list";
      $("calls-table").tBodies[0].replaceChildren();
      $("calls-table").hidden = true;
      $("calls-none").textContent = "Asking the service whom to call…";
      $("calls-none").hidden = false;
      return;
    }
    $("calls-title").textContent = `Call list (${calls.length})`;
    $("calls-table").tBodies[0].replaceChildren(...calls.map((change) => {
      const tell = tellCustomer(plan, change.visit_id, change);
      const phone = el("td", {});
      if (change.phone) {
        const link = el("a", { text: change.phone });
        link.setAttribute("href", `tel:${change.phone.replace(/[^0-9+]/g, "")}`);
        phone.append(link);
      }
      return el("tr", { class: "fr-call" },
        el("td", { text: change.visit_id }),
        el("td", { class: "fr-call-customer", text: change.customer }),
        phone,
        el("td", { text: tell }));
    }));
    $("calls-table").hidden = calls.length === 0;
    $("calls-none").textContent = "No customer needs a call.";
    $("calls-none").hidden = calls.length !== 0;
  }

  function fillEventForms(plan) {
    const technician = $("delay-technician");
    const chosenTechnician = technician.value;
    technician.replaceChildren(...plan.routes.map((route) => {
      const name = technicianName(route.technician_id);
      return el("option", { value: route.technician_id,
        text: `${route.technician_id}${name ? ` ${name}` : ""} ` +
          `(${counted(route.stops.length, "stop")})` });
    }));
    if (chosenTechnician) technician.value = chosenTechnician;
    fillReportTime(); // and the stops that can be cancelled at that time
  }

  /** The stops that can be cancelled at the time of the report: not reached, and not planned
   * to be reached before it (the API takes those as under way or done, nothing saying
   * otherwise: with the report at 12:00, 100 stops of the morning were offered and refused;
   * contract: "A visit done or under way cannot be cancelled"). */
  function fillCancelList(plan) {
    const visit = $("cancel-visit");
    const chosenVisit = visit.value;
    const at = clockMinutes($("event-at").value);
    const open = plan.routes.flatMap((route) => route.stops
      .filter((stop) => stop.status === "planned" &&
        (at === null || minutesOf(stop.arrival) >= at))
      .map((stop) => el("option", { value: stop.visit_id,
        text: `${stop.visit_id} ${stop.customer} (${route.technician_id} ${clock(stop.arrival)})` })));
    visit.replaceChildren(...open);
    if (chosenVisit) visit.value = chosenVisit;
  }

  /** Today's date (YYYY-MM-DD) in ``timezone``. */
  function todayIn(timezone) {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric",
        month: "2-digit", day: "2-digit" }).format(new Date());
    } catch (error) {
      return new Date().toISOString().slice(0, 10);
    }
  }

  /** Whether the plan shown is of a date still to come where it is planned: its day has not
   * begun, and "now" read on its date would be hours into it (every stop taken as made). */
  function dayToCome() {
    return state.plan.date > todayIn(state.plan.timezone);
  }

  /** Whether the plan shown is of a date already over where it is planned: "now" is no time
   * of its day (read on its date, it was refused when before the day's last re-plan). */
  function dayGoneBy() {
    return state.plan.date < todayIn(state.plan.timezone);
  }

  /** The clock time of the shown plan's last re-plan ("00:00", its start, if none): the first
   * time the service takes a report at. The plan's times are in its zone, as the box's. */
  function lastReplan() {
    return state.plan.at ? state.plan.at.slice(11, 16) : "00:00";
  }

  /** Whether today's plan was last re-planned at a time still to come by this computer's
   * clock (behind the service's, which took a report at its own now): "now" is before it,
   * and was refused ("events must move forward in time"). */
  function replannedAhead() {
    return Boolean(state.plan.at) && state.plan.at.slice(0, 10) === state.plan.date &&
      lastReplan() > nowIn(state.plan.timezone);
  }

  /** The time of the report: the clock now in the shown plan's time zone, unless the
   * dispatcher typed a time for this plan (kept until they empty the box). A time typed for
   * another plan is dropped: it was that plan's clock. A day to come or gone by has no "now",
   * and a day re-planned ahead of the clock takes no report before that: its last re-plan,
   * else its start, the first time the service takes a report at. Called when a plan or a
   * version is shown, at each check for new versions (unless the box is being edited), and
   * before a report is posted. */
  function fillReportTime() {
    const box = $("event-at");
    if (state.typedAt !== state.plan.plan_id || !box.value) {
      state.typedAt = null;
      const atReplan = dayToCome() || dayGoneBy() || replannedAhead();
      box.value = atReplan ? lastReplan() : nowIn(state.plan.timezone);
    }
    sayReportTime();
  }

  /** Say in which time zone the time of the report is, and whether it follows the clock. */
  function sayReportTime() {
    fillCancelList(state.plan);
    const zone = state.plan.timezone;
    const since = state.plan.at ? "its last re-plan" : "its start";
    let shown = `${zone} time, now (type a time to report an earlier one).`;
    if (dayToCome()) {
      shown = `${zone} time on ${state.plan.date}, a day to come: before it begins (type a ` +
        "time to report at another).";
    } else if (dayGoneBy()) {
      shown = `${zone} time on ${state.plan.date}, a day gone by: at ${since} (type the time ` +
        "the report is for).";
    } else if (replannedAhead()) {
      shown = `${zone} time, re-planned after this computer's now: at its last re-plan (type ` +
        "the time the report is for).";
    }
    $("event-at-note").textContent = state.typedAt === null
      ? shown
      : `${zone} time, as typed for this plan (empty the box for the default).`;
  }

  function reportTimeTyped() {
    state.typedAt = $("event-at").value ? state.plan.plan_id : null;
    sayReportTime();
  }

  // ---- events -------------------------------------------------------------------------------

  async function postEvents(events, what) {
    if (state.posting) return;
    state.posting = true;
    showProblems("", []);
    fillReportTime(); // the clock moved on since the plan was shown
    const version = state.plan.version;
    say(`Posting the ${what} against version ${version}…`);
    try {
      const response = await api("POST", `/v1/plans/${part(state.plan.plan_id)}/events`, {
        json: { at: $("event-at").value, events },
        headers: { "If-Match": `"${version}"` },
      });
      const plan = await response.json();
      showPlan(plan);
      const calls = (plan.changes || []).filter((change) => change.notify).length;
      say(`Version ${plan.version}: ${(plan.changes || []).length} changes, ${calls} more ` +
        `customers to call.`);
      loadLists();
      $("changes-section").focus();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        say("");
        showProblems("The plan changed before this report arrived (another desk or a " +
          "driver): it is reloaded; look again and send it again.", []);
        await refresh(true);
      } else {
        throw error;
      }
    } finally {
      state.posting = false;
    }
  }

  function postDelay(event) {
    event.preventDefault();
    const delay = { type: "delay", technician_id: $("delay-technician").value,
      minutes: Number($("delay-minutes").value) };
    const reason = $("delay-reason").value.trim();
    if (reason) delay.reason = reason;
    return postEvents([delay], "delay");
  }

  function postCancel(event) {
    event.preventDefault();
    const cancel = { type: "cancelled", visit_id: $("cancel-visit").value };
    const reason = $("cancel-reason").value.trim();
    if (reason) cancel.reason = reason;
    return postEvents([cancel], "cancellation");
  }

  // ---- keeping up with the field --------------------------------------------------------------

  async function refresh(force) {
    if (!state.plan || state.polling || (state.posting && !force)) return;
    state.polling = true;
    try {
      const path = `/v1/plans/${part(state.plan.plan_id)}/versions`;
      const found = await (await api("GET", path)).json();
      reached();
      const latest = found.versions[found.versions.length - 1];
      if (latest > state.plan.version || force) {
        const plan = await (await api("GET", `/v1/plans/${part(state.plan.plan_id)}`)).json();
        if (plan.version !== state.plan.version) {
          showPlan(plan);
          say(`Version ${plan.version} arrived (a report from the field or another desk).`);
          loadLists();
        }
      }
      $("plan-refresh").textContent = `Checked for new versions at ${nowIn(state.plan.timezone)}` +
        ` (every ${CONFIG.refresh_s} s).`;
      if (document.activeElement !== $("event-at")) fillReportTime();
    } catch (error) {
      fail(error);
    } finally {
      state.polling = false;
    }
  }

  function startPolling() {
    clearInterval(state.pollTimer);
    state.pollTimer = setInterval(() => {
      if (!document.hidden) refresh(false);
    }, CONFIG.refresh_s * 1000);
  }

  function stopTimers() {
    clearInterval(state.pollTimer);
    clearTimeout(state.jobTimer);
    state.pollTimer = null;
    state.jobTimer = null;
  }

  // ---- the map --------------------------------------------------------------------------------

  async function loadMap(plan) {
    const note = $("map-note");
    try {
      const path = `/v1/plans/${part(plan.plan_id)}/map?version=${plan.version}`;
      const page = await (await api("GET", path)).text();
      if (state.plan !== plan) return; // a newer version is being shown
      // The service's own page, its typed text escaped by maps.desk; it runs sandboxed in an
      // opaque origin, so it cannot read this tab's key.
      $("map-frame").srcdoc = page;
      state.mapPlanId = plan.plan_id;
      note.textContent = `Version ${plan.version}.`;
    } catch (error) {
      if (error instanceof KeyRefused) return;
      note.textContent = `The map could not be loaded: ${error.message}`;
    }
  }

  /** The map frame's messages (``maps.desk``): where the dispatcher moved the map is kept, and
   * given back to the page of the plan's next version once it is ready, so a new version does
   * not throw the view back to the whole day. Numbers only, and only from the frame. */
  function keepMapView(event) {
    const frame = $("map-frame");
    const view = event.data || {};
    if (event.source !== frame.contentWindow || !state.mapPlanId) return;
    if (![view.zoom, view.lat, view.lng].every(Number.isFinite)) return;
    if (view.fieldroute === "map-moved") {
      state.mapView = { planId: state.mapPlanId, zoom: view.zoom, lat: view.lat, lng: view.lng };
    } else if (view.fieldroute === "map-ready" && state.mapView &&
        state.mapView.planId === state.mapPlanId) {
      const { zoom, lat, lng } = state.mapView;
      frame.contentWindow.postMessage({ fieldroute: "map-view", zoom, lat, lng }, "*");
    }
  }

  // ---- wiring -------------------------------------------------------------------------------

  function guarded(handler) {
    return (event) => {
      Promise.resolve(handler(event)).catch(fail);
    };
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("key-input").value.trim();
    $("key-input").value = "";
    if (!value) return;
    sessionStorage.setItem(KEY_ITEM, value);
    showConsole();
    if (state.watching) {
      // A solve was being followed when the key was refused or forgotten: follow it again
      // (it was forgotten, its plan never shown and "Plan the day" left disabled).
      watchJob(state.watching.jobId, state.watching.problemId);
      say("Key kept for this tab; following the solve again.");
      return;
    }
    if (state.plan) {
      startPolling(); // signed in again after a refusal: keep up with the plan shown
      say("Key kept for this tab.");
      return;
    }
    say("Key kept for this tab. Upload a day, or pick a stored day or plan.");
    $("json-file").focus();
  });
  $("forget-key").addEventListener("click", () => {
    state.plan = null;
    $("plan-area").hidden = true;
    $("map-frame").srcdoc = "";
    showKeyForm("The key is forgotten.");
  });
  $("json-form").addEventListener("submit", guarded(uploading(uploadJson)));
  $("sheets-form").addEventListener("submit", guarded(uploading(uploadSheets)));
  $("open-day-form").addEventListener("submit", guarded(openPickedDay));
  $("open-plan-form").addEventListener("submit", guarded(openPickedPlan));
  for (const list of [$("open-problem"), $("open-plan")]) {
    list.addEventListener("change", () => { list.dataset.picked = "yes"; });
  }
  $("open-id-form").addEventListener("submit", guarded(openTyped));
  $("solve-form").addEventListener("submit", guarded(solve));
  $("event-at").addEventListener("input", reportTimeTyped);
  $("delay-form").addEventListener("submit", guarded(postDelay));
  window.addEventListener("message", keepMapView);
  $("cancel-form").addEventListener("submit", guarded(postCancel));

  if (key()) showConsole();
  else showKeyForm("");
})();
