import assert from "node:assert/strict";
import { test } from "node:test";

import { cancelJob, isActive, isFinished, pollJob } from "../../server/static/js/jobs.js";

const noWait = async () => {};
const error = (status) => Object.assign(new Error(`HTTP ${status}`), { status });

function scripted(answers) {
  let calls = 0;
  const load = async () => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls += 1;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { load, calls: () => calls };
}

test("polls until the job is done and reports every update", async () => {
  const { load, calls } = scripted([
    { status: "queued", progress: 0 },
    { status: "running", progress: 0.5 },
    { status: "done", progress: 1 },
  ]);
  const seen = [];
  const job = await pollJob({ load, onUpdate: (j) => seen.push(j.status), wait: noWait });
  assert.equal(job.status, "done");
  assert.deepEqual(seen, ["queued", "running", "done"]);
  assert.equal(calls(), 3);
});

test("a failed or cancelled job ends the poll", async () => {
  for (const status of ["failed", "cancelled"]) {
    const job = await pollJob({ load: scripted([{ status }]).load, wait: noWait });
    assert.equal(job.status, status);
  }
});

test("server errors are retried, a 4xx is not", async () => {
  const flaky = scripted([error(503), error(502), { status: "done" }]);
  assert.equal((await pollJob({ load: flaky.load, wait: noWait })).status, "done");
  assert.equal(flaky.calls(), 3);
  const gone = scripted([error(404), { status: "done" }]);
  await assert.rejects(pollJob({ load: gone.load, wait: noWait }), /HTTP 404/);
  assert.equal(gone.calls(), 1);
});

test("gives up after maxFailures network errors in a row", async () => {
  const down = scripted([new Error("offline")]);
  await assert.rejects(pollJob({ load: down.load, wait: noWait, maxFailures: 3 }), /offline/);
  assert.equal(down.calls(), 3);
});

test("a newer poll cancels this one: it returns null and stops calling", async () => {
  let current = true;
  const { load, calls } = scripted([{ status: "running" }]);
  const result = await pollJob({
    load,
    isCancelled: () => !current,
    onUpdate: () => (current = calls() < 2),
    wait: noWait,
  });
  assert.equal(result, null);
  assert.equal(calls(), 2);
});

test("isActive / isFinished", () => {
  assert.equal(isActive({ status: "queued" }), true);
  assert.equal(isActive({ status: "done" }), false);
  assert.equal(isActive(null), false);
  assert.equal(isFinished({ status: "failed" }), true);
  assert.equal(isFinished({ status: "running" }), false);
});

test("cancelJob sends DELETE /jobs/{id} (id encoded) and returns the job's new state", async () => {
  const calls = [];
  const api = async (method, path) => (calls.push([method, path]), { status: "cancelled" });
  assert.deepEqual(await cancelJob(api, "a/b c"), { status: "cancelled" });
  assert.deepEqual(calls, [["DELETE", "/jobs/a%2Fb%20c"]]);
});
