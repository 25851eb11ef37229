// ONE job-polling helper for index jobs (/api/v1/jobs/…) and highlight jobs
// (/api/v1/highlights/…): poll until the job finishes, is superseded, or cannot be followed.

export const POLL_MS = 1000;
const FINISHED = new Set(["done", "failed", "cancelled"]);

export const isFinished = (job) => Boolean(job && FINISHED.has(job.status));
export const isActive = (job) => Boolean(job && (job.status === "queued" || job.status === "running"));

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `load()` until the job is finished; call `onUpdate(job)` on every answer. Returns the
 * finished job, or null when `isCancelled()` turned true (a newer poll took over). A 4xx answer,
 * or `maxFailures` failures in a row, throws the last error.
 */
export async function pollJob({
  load,
  onUpdate = () => {},
  isCancelled = () => false,
  intervalMs = POLL_MS,
  maxFailures = 5,
  wait = sleep,
}) {
  let failures = 0;
  for (;;) {
    if (isCancelled()) return null;
    let job;
    try {
      job = await load();
      failures = 0;
    } catch (err) {
      if (isCancelled()) return null;
      failures += 1;
      const clientError = err && err.status >= 400 && err.status < 500;
      if (clientError || failures >= maxFailures) throw err;
      await wait(intervalMs);
      continue;
    }
    if (isCancelled()) return null;
    onUpdate(job);
    if (isFinished(job)) return job;
    await wait(intervalMs);
  }
}

/** Ask the server to cancel a queued or running job (DELETE /api/v1/jobs/{id}); its new state. */
export function cancelJob(api, requestId) {
  return api("DELETE", `/jobs/${encodeURIComponent(requestId)}`);
}
