// One call at a time through matrix-js-sdk's MatrixCall, the code Element's
// legacy 1:1 calls run on.
import { CallEvent, CallErrorCode, CallState } from "matrix-js-sdk/lib/webrtc/call.js";
import { CallEventHandlerEvent } from "matrix-js-sdk/lib/webrtc/callEventHandler.js";
import { needClient } from "./client.js";
import { attach, attachExtra, detach } from "./tone.js";
import { callStats } from "./stats.js";
import { waitFor } from "./wait.js";

let current = null; // the call placed or answered last
const incoming = []; // calls rung and not answered yet
let lastError = null;

// listen queues incoming calls; call it before the client starts syncing.
export function listen(client) {
  client.on(CallEventHandlerEvent.Incoming, (call) => {
    incoming.push({ call, at: Date.now() });
  });
}

function track(call) {
  current = call;
  lastError = null;
  const feeds = () => {
    if (current !== call) return;
    const feeds = call.getRemoteFeeds().filter((f) => f.purpose === "m.usermedia" && f.stream.getAudioTracks().length > 0);
    if (feeds.length > 0) attach(feeds[0].stream);
    for (const f of feeds.slice(1)) attachExtra(f.stream);
  };
  call.on(CallEvent.FeedsChanged, feeds);
  call.on(CallEvent.Error, (err) => {
    lastError = String(err?.message ?? err);
    console.warn("call error:", lastError);
  });
  call.on(CallEvent.Hangup, () => {
    if (current === call) detach();
  });
  feeds();
}

function busy() {
  if (current && current.state !== CallState.Ended) throw new Error(`a call is already ${current.state}`);
}

// placeCall places a voice call in roomId; placedAt is taken just before
// placeVoiceCall.
export async function placeCall({ roomId }) {
  busy();
  const call = needClient().createCall(roomId);
  if (!call) throw new Error("this browser cannot place Matrix calls");
  track(call);
  const placedAt = Date.now();
  await call.placeVoiceCall();
  return { callId: call.callId, placedAt };
}

// answerNext answers the oldest ringing incoming call, waiting for one.
export async function answerNext({ timeoutMs = 30000 }) {
  busy();
  const next = await waitFor(() => {
    while (incoming.length > 0 && incoming[0].call.state !== CallState.Ringing) incoming.shift();
    return incoming.length > 0 ? incoming.shift() : undefined;
  }, timeoutMs, "an incoming call");
  track(next.call);
  const answeredAt = Date.now();
  await next.call.answer(true, false);
  return { callId: next.call.callId, rangAt: next.at, answeredAt, sender: next.call.getOpponentMember?.()?.userId ?? "" };
}

export function callState() {
  if (!current) return { state: "" };
  return {
    state: current.state,
    callId: current.callId,
    direction: current.direction ?? "",
    hangupReason: current.hangupReason ?? "",
    hangupParty: current.hangupParty ?? "",
    error: lastError ?? "",
  };
}

export async function waitState({ state, timeoutMs = 30000 }) {
  if (!current) throw new Error("no call");
  const call = current;
  await waitFor(() => {
    if (call.state === state) return true;
    if (call.state === CallState.Ended && state !== CallState.Ended) {
      throw new Error(`call ended (${call.hangupReason ?? "no reason"}${lastError ? "; " + lastError : ""}) before reaching ${state}`);
    }
    return undefined;
  }, timeoutMs, `call state ${state} (now ${call.state})`);
  return callState();
}

// hangup ends the current call as a user would and waits until it has ended.
export async function hangup() {
  if (!current || current.state === CallState.Ended) return callState();
  current.hangup(CallErrorCode.UserHangup, false);
  return waitState({ state: CallState.Ended, timeoutMs: 5000 });
}

// remoteFeeds lists the call's remote feeds as the SDK keeps them.
export function remoteFeeds() {
  if (!current) return [];
  return current.getRemoteFeeds().map((f) => ({
    streamId: f.stream.id,
    purpose: f.purpose,
    audioTracks: f.stream.getAudioTracks().length,
    audioMuted: f.isAudioMuted(),
  }));
}

export function stats() {
  return callStats(current);
}
