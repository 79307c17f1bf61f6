// Tone detection on the remote stream: a Web Audio AnalyserNode whose
// strongest bin must sit on the expected frequency, well above the noise floor.
import { waitFor } from "./wait.js";

const fftSize = 8192; // ~5.9 Hz per bin at 48 kHz
const minSnrDb = 30; // peak over the median bin
const minPeakDb = -90; // dBFS: silence stays far below
const consecutive = 3; // readings in a row, 20 ms apart

let ctx = null;
let source = null;
let analyser = null;
let stream = null;

// attach plays stream in the page's <audio> element and feeds it to the
// analyser. Web Audio receives remote WebRTC audio only while the stream also
// plays in an unmuted media element.
export function attach(s) {
  if (!s || s === stream) return;
  detachExtra();
  stream = s;
  const el = document.getElementById("remote");
  el.srcObject = s;
  el.muted = false;
  el.play().catch((err) => console.warn("remote audio play:", err));
  ctx ??= new AudioContext();
  ctx.resume().catch((err) => console.warn("AudioContext resume:", err));
  source?.disconnect();
  source = ctx.createMediaStreamSource(s);
  analyser = ctx.createAnalyser();
  analyser.fftSize = fftSize;
  analyser.smoothingTimeConstant = 0;
  source.connect(analyser);
}

// Further remote streams of the call (Element plays every feed: a supervisor
// hears the customer and the agent as two streams), each in its own <audio>
// element and all into the one analyser, as the ear would mix them.
const extra = new Map(); // stream id → { el, src }

export function attachExtra(s) {
  if (!s || s === stream || extra.has(s.id) || !analyser) return;
  const el = document.createElement("audio");
  el.autoplay = true;
  el.srcObject = s;
  el.muted = false;
  document.body.appendChild(el);
  el.play().catch((err) => console.warn("extra audio play:", err));
  const src = ctx.createMediaStreamSource(s);
  src.connect(analyser);
  extra.set(s.id, { el, src });
}

function detachExtra() {
  for (const { el, src } of extra.values()) {
    src.disconnect();
    el.srcObject = null;
    el.remove();
  }
  extra.clear();
}

// detach forgets the stream (the call ended).
export function detach() {
  detachExtra();
  source?.disconnect();
  source = analyser = stream = null;
  const el = document.getElementById("remote");
  el.srcObject = null;
}

// levels returns, for each frequency, how far its strongest bin (within a few
// bins) stands above the median bin, in dB; null before a stream is attached.
export function levels(freqs) {
  if (!analyser) return null;
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  const finite = Array.from(bins, (v) => (Number.isFinite(v) ? v : -200)).sort((a, b) => a - b);
  const floorDb = finite[finite.length >> 1];
  const binHz = ctx.sampleRate / fftSize;
  return freqs.map((f) => {
    const c = Math.round(f / binHz);
    let peak = -200;
    for (let i = Math.max(c - 3, 0); i <= Math.min(c + 3, bins.length - 1); i++) {
      if (Number.isFinite(bins[i]) && bins[i] > peak) peak = bins[i];
    }
    return { freqHz: f, peakDb: peak, snrDb: peak - floorDb };
  });
}

// toneLevels samples levels every 20 ms for durationMs and returns, per
// frequency, the highest SNR seen and how many samples were above minSnrDb.
export async function toneLevels({ freqs, durationMs = 2000, minSnrDb: min = minSnrDb }) {
  const out = freqs.map((f) => ({ freqHz: f, maxSnrDb: -200, above: 0 }));
  let samples = 0;
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const ls = levels(freqs);
    if (ls) {
      samples++;
      ls.forEach((l, i) => {
        out[i].maxSnrDb = Math.max(out[i].maxSnrDb, l.snrDb);
        if (l.snrDb >= min && l.peakDb >= minPeakDb) out[i].above++;
      });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { samples, tones: out };
}

// measure returns the current spectrum's peak: frequency, level and how far it
// stands above the median bin; null before a remote stream is attached.
export function measure() {
  if (!analyser) return null;
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let peak = 3; // skip DC and the lowest bins
  for (let i = peak; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
  const finite = Array.from(bins, (v) => (Number.isFinite(v) ? v : -200)).sort((a, b) => a - b);
  const floorDb = finite[finite.length >> 1];
  const peakDb = Number.isFinite(bins[peak]) ? bins[peak] : -200;
  return {
    peakHz: (peak * ctx.sampleRate) / fftSize,
    peakDb,
    floorDb,
    snrDb: peakDb - floorDb,
    binHz: ctx.sampleRate / fftSize,
    contextState: ctx.state,
  };
}

function matches(m, freqHz) {
  return m && Math.abs(m.peakHz - freqHz) <= Math.max(3 * m.binHz, 15) && m.snrDb >= minSnrDb && m.peakDb >= minPeakDb;
}

// waitTone resolves once freqHz has dominated the remote audio for a few
// readings in a row, with when that started (ms since the epoch).
export async function waitTone({ freqHz, timeoutMs = 20000 }) {
  let run = 0;
  let since = 0;
  let last = null;
  try {
    return await waitFor(() => {
      last = measure();
      if (!matches(last, freqHz)) {
        run = 0;
        return undefined;
      }
      if (run++ === 0) since = Date.now();
      return run >= consecutive ? { heardAt: since, ...last } : undefined;
    }, timeoutMs, `a ${freqHz} Hz tone in the remote audio`);
  } catch (err) {
    throw new Error(`${err.message}; last reading ${JSON.stringify(last)}`);
  }
}
