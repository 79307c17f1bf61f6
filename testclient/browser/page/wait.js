// waitFor polls check() every 20 ms until it returns something other than
// undefined, or fails after timeoutMs naming what it waited for.
export function waitFor(check, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      let v;
      try {
        v = check();
      } catch (err) {
        reject(err);
        return;
      }
      if (v !== undefined) resolve(v);
      else if (Date.now() > deadline) reject(new Error(`timeout after ${timeoutMs} ms waiting for ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}
