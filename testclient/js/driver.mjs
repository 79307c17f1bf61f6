// driver.mjs: one matrix-js-sdk client, driven over stdin/stdout by Go tests
// (see ../jsclient). Each stdin line is {"id":N,"cmd":"...",...args}; each
// answer is one stdout line {"id":N,"ok":true,"result":...} or
// {"id":N,"ok":false,"error":"...","errcode":"..."}. Commands run
// concurrently. On start the driver answers id 0 with {ready:true}.
// Everything else (SDK logs) goes to stderr; DRIVER_LOG=debug|info|warn|error
// sets how much (default warn).
import { format } from "node:util";
import { createInterface } from "node:readline";

// matrix-js-sdk 43 targets Node 22; Promise.withResolvers arrived in Node 22.
if (!Promise.withResolvers) {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

// stdout carries the protocol only: the SDK logs through console.* (looked
// up at call time), so send console to stderr and filter by level.
const out = process.stdout;
const levels = { trace: 0, debug: 1, log: 2, info: 2, warn: 3, error: 4 };
const minLevel = levels[process.env.DRIVER_LOG ?? "warn"] ?? 3;
// Warnings every login produces against Dendrite, which would crowd real
// problems out of the Go side's last-50-lines buffer.
const noise = /default global (override|underride) push rule/;
for (const name of Object.keys(levels)) {
  console[name] = levels[name] >= minLevel
    ? (...args) => {
      const line = format(...args);
      if (minLevel >= levels.warn && noise.test(line)) return;
      process.stderr.write(`[${name}] ${line}\n`);
    }
    : () => {};
}

const sdk = await import("matrix-js-sdk");
const { createClient, ClientEvent, SyncState, MatrixEventEvent, RoomEvent, RoomMemberEvent, EventType } = sdk;
const { OnlySignedDevicesIsolationMode, AllDevicesIsolationMode } = await import("matrix-js-sdk/lib/crypto-api/index.js");

let client = null;
// Typing notifications and read receipts as the client saw them arrive, oldest first.
const typingLog = [];
const receiptLog = [];

function send(obj) { out.write(JSON.stringify(obj) + "\n"); }

process.on("unhandledRejection", (err) => console.error("unhandled rejection:", err));
process.on("uncaughtException", (err) => console.error("uncaught exception:", err));

// waitUntil calls check() whenever the client reports something, and every
// 250 ms, until it returns a value other than undefined.
function waitUntil(check, timeoutMs = 30000, what = "condition") {
  return new Promise((resolve, reject) => {
    const names = client
      ? [RoomEvent.Timeline, MatrixEventEvent.Decrypted, RoomMemberEvent.Membership, RoomEvent.MyMembership, ClientEvent.Sync, ClientEvent.Room, RoomEvent.LocalEchoUpdated]
      : [];
    let done = false;
    const finish = (fn, v) => {
      if (done) return;
      done = true;
      clearInterval(tick);
      clearTimeout(timer);
      for (const n of names) client.off(n, poke);
      fn(v);
    };
    const poke = () => {
      if (done) return;
      try {
        const v = check();
        if (v !== undefined) finish(resolve, v);
      } catch (err) { finish(reject, err); }
    };
    const tick = setInterval(poke, 250);
    const timer = setTimeout(() => finish(reject, new Error(`timeout after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    for (const n of names) client.on(n, poke);
    poke();
  });
}

function needClient() {
  if (!client) throw new Error("not logged in");
  return client;
}

function eventJSON(ev) {
  const o = {
    eventId: ev.getId(),
    sender: ev.getSender(),
    type: ev.getType(),
    content: ev.getContent(),
    encrypted: ev.isEncrypted(),
    ts: ev.getTs(),
  };
  if (ev.getStateKey() !== undefined) o.stateKey = ev.getStateKey();
  if (ev.isDecryptionFailure()) o.decryptionFailure = true;
  return o;
}

// pending: encrypted and not decrypted yet (still being decrypted, not yet
// attempted, or failed for now: room keys may still arrive).
function pending(e) {
  return e.isEncrypted() && (e.isBeingDecrypted() || e.isDecryptionFailure() || e.getClearContent() === null);
}

function timeline(roomId) {
  const room = needClient().getRoom(roomId);
  return room ? room.getLiveTimeline().getEvents() : [];
}

// joinedRoom waits until we are joined to roomId and the room's state (and
// so its encryption setting) has reached the client.
function joinedRoom(roomId, timeoutMs = 15000) {
  return waitUntil(() => {
    const room = client.getRoom(roomId);
    return room && room.getMyMembership() === "join" ? room : undefined;
  }, timeoutMs, `own membership join in ${roomId}`);
}

const commands = {
  // login logs in and, like Element today, bootstraps the user's cross-signing
  // (signing this device) and excludes insecure devices (MSC4153): room keys go only
  // to devices their owner cross-signed, and events from other devices do not
  // decrypt. legacyDeviceMode keeps the old share-with-every-device mode.
  async login({ baseUrl, user, password, legacyDeviceMode }) {
    if (client) throw new Error("already logged in");
    const tmp = createClient({ baseUrl });
    const res = await tmp.loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user },
      password,
      initial_device_display_name: "jsclient test driver",
    });
    client = createClient({ baseUrl, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id });
    recordEphemeral(client);
    await client.initRustCrypto({ useIndexedDB: false });
    const prepared = new Promise((resolve, reject) => {
      const onSync = (state, _prev, data) => {
        if (state === SyncState.Prepared || state === SyncState.Syncing) { client.off(ClientEvent.Sync, onSync); resolve(); }
        if (state === SyncState.Error && data?.error?.errcode) { client.off(ClientEvent.Sync, onSync); reject(data.error); }
      };
      client.on(ClientEvent.Sync, onSync);
    });
    await client.startClient({ initialSyncLimit: 20 });
    let timer;
    const tooLong = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("no first sync after 30 s")), 30000); });
    await Promise.race([prepared, tooLong]).finally(() => clearTimeout(timer));
    // Wait until our device keys are on the server, so that others can
    // encrypt for us as soon as login returns.
    await waitForOwnKeys(res.user_id, res.device_id);
    const crypto = client.getCrypto();
    if (legacyDeviceMode) {
      crypto.setDeviceIsolationMode(new AllDevicesIsolationMode(false));
    } else {
      await crypto.bootstrapCrossSigning({
        authUploadDeviceSigningKeys: (makeRequest) =>
          makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: res.user_id }, password }),
      });
      if (!(await crypto.isCrossSigningReady())) throw new Error("cross-signing is not ready after bootstrapping");
      crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    }
    return { userId: res.user_id, deviceId: res.device_id };
  },

  // trust reports how this client sees another user and their devices: whether the
  // identity is known and needs approval (it changed), each device's cross-signing
  // status, and the master key the client holds.
  async trust({ userId }) {
    const crypto = needClient().getCrypto();
    const devices = (await crypto.getUserDeviceInfo([userId], true)).get(userId) ?? new Map();
    const out = [];
    for (const deviceId of devices.keys()) {
      const st = await crypto.getDeviceVerificationStatus(userId, deviceId);
      out.push({ deviceId, signedByOwner: !!st?.signedByOwner, crossSigningVerified: !!st?.crossSigningVerified });
    }
    const user = await crypto.getUserVerificationStatus(userId);
    const identity = await crypto.userHasCrossSigningKeys(userId, true);
    return { known: user.known, needsUserApproval: !!user.needsUserApproval, hasCrossSigningKeys: identity, devices: out };
  },

  async createDM({ userId, encrypted }) {
    const c = needClient();
    const { room_id: roomId } = await c.createRoom({
      is_direct: true,
      preset: "trusted_private_chat",
      invite: [userId],
      initial_state: encrypted
        ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
        : [],
    });
    const direct = { ...(c.getAccountData(EventType.Direct)?.getContent() ?? {}) };
    direct[userId] = [...(direct[userId] ?? []).filter((r) => r !== roomId), roomId];
    await c.setAccountData(EventType.Direct, direct);
    const room = await joinedRoom(roomId);
    if (encrypted) {
      await waitUntil(() => (room.hasEncryptionStateEvent() ? true : undefined), 15000, "encryption state");
    }
    return { roomId };
  },

  async join({ roomId, viaServers }) {
    await needClient().joinRoom(roomId, viaServers ? { viaServers } : undefined);
    await joinedRoom(roomId);
    return { roomId };
  },

  async waitJoined({ roomId, userId, timeoutMs }) {
    needClient();
    await waitUntil(() => {
      const m = client.getRoom(roomId)?.getMember(userId);
      return m?.membership === "join" ? true : undefined;
    }, timeoutMs, `${userId} joined ${roomId}`);
    return {};
  },

  async waitForMessage({ roomId, sender, contains, type, afterEventId, timeoutMs }) {
    needClient();
    const ev = await waitUntil(() => {
      let evs = timeline(roomId);
      if (afterEventId) {
        const i = evs.findIndex((e) => e.getId() === afterEventId);
        if (i >= 0) evs = evs.slice(i + 1);
      }
      for (const e of evs) {
        if (e.status !== null && e.status !== undefined) continue; // local echo not yet sent
        if (pending(e)) continue;
        if (e.getId() === afterEventId) continue;
        if (sender && e.getSender() !== sender) continue;
        if (type ? e.getType() !== type : e.isState()) continue;
        if (contains && !String(e.getContent()?.body ?? "").includes(contains)) continue;
        return e;
      }
      return undefined;
    }, timeoutMs, `message in ${roomId}`);
    return eventJSON(ev);
  },

  async sendText({ roomId, body }) {
    await joinedRoom(roomId);
    const res = await client.sendTextMessage(roomId, body);
    return { eventId: res.event_id };
  },

  async sendEvent({ roomId, type, content }) {
    await joinedRoom(roomId);
    const res = await client.sendEvent(roomId, type, content ?? {});
    return { eventId: res.event_id };
  },

  async messages({ roomId }) {
    needClient();
    const evs = timeline(roomId);
    // Give pending decryptions a moment to finish.
    await waitUntil(() => (evs.some((e) => pending(e) && !e.isDecryptionFailure()) ? undefined : true), 5000, "decryption")
      .catch(() => {}); // list what we have; undecrypted events say so
    return evs.filter((e) => e.status === null || e.status === undefined).map(eventJSON);
  },

  async roomState({ roomId }) {
    const room = needClient().getRoom(roomId);
    if (!room) throw new Error(`unknown room ${roomId}`);
    return {
      encrypted: room.hasEncryptionStateEvent(),
      members: room.getMembers().map((m) => ({ userId: m.userId, membership: m.membership, displayName: m.rawDisplayName })),
    };
  },

  // sendTyping shows (or ends) our typing notification in a room.
  async sendTyping({ roomId, typing, timeoutMs }) {
    await needClient().sendTyping(roomId, !!typing, timeoutMs ?? 30000);
    return {};
  },

  // sendReceipt marks an event read with a public (m.read) or private
  // (m.read.private) receipt, as Element does with "send read receipts" on or off.
  async sendReceipt({ roomId, eventId, private: priv }) {
    const room = needClient().getRoom(roomId);
    const ev = room?.findEventById(eventId);
    if (!ev) throw new Error(`no event ${eventId} in ${roomId}`);
    await client.sendReceipt(ev, priv ? "m.read.private" : "m.read", {}, true);
    return {};
  },

  // waitTyping waits until the client shows userId typing (or not) in roomId.
  async waitTyping({ roomId, userId, typing, timeoutMs }) {
    needClient();
    await waitUntil(() => {
      const m = client.getRoom(roomId)?.getMember(userId);
      return m && m.typing === !!typing ? true : undefined;
    }, timeoutMs, `${userId} typing=${!!typing} in ${roomId}`);
    return {};
  },

  // waitReceipt waits until userId's public receipt in roomId is on eventId.
  async waitReceipt({ roomId, userId, eventId, timeoutMs }) {
    needClient();
    await waitUntil(() => {
      const r = client.getRoom(roomId)?.getReadReceiptForUserId(userId, true, "m.read");
      return r?.eventId === eventId ? true : undefined;
    }, timeoutMs, `${userId}'s receipt on ${eventId} in ${roomId}`);
    return {};
  },

  // ephemeral lists the typing notifications and receipts seen in a room.
  async ephemeral({ roomId }) {
    needClient();
    return {
      typing: typingLog.filter((t) => t.roomId === roomId),
      receipts: receiptLog.filter((r) => r.roomId === roomId),
    };
  },

  async stop() {
    if (client) client.stopClient();
    setTimeout(() => process.exit(0), 50);
    return {};
  },
};

// recordEphemeral keeps every typing change and receipt the client is told of.
function recordEphemeral(c) {
  c.on(RoomMemberEvent.Typing, (_ev, member) => {
    typingLog.push({ roomId: member.roomId, userId: member.userId, typing: member.typing, ts: Date.now() });
  });
  c.on(RoomEvent.Receipt, (ev, room) => {
    for (const [eventId, byType] of Object.entries(ev.getContent() ?? {})) {
      for (const [type, byUser] of Object.entries(byType ?? {})) {
        for (const userId of Object.keys(byUser ?? {})) {
          receiptLog.push({ roomId: room.roomId, eventId, type, userId, ts: Date.now() });
        }
      }
    }
  });
}

async function waitForOwnKeys(userId, deviceId) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const res = await client.downloadKeysForUsers([userId]);
    if (res.device_keys?.[userId]?.[deviceId]) return;
    if (Date.now() > deadline) throw new Error("own device keys never reached the server");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function handle(line) {
  let msg;
  try { msg = JSON.parse(line); } catch (err) {
    send({ id: -1, ok: false, error: `bad JSON: ${err.message}` });
    return;
  }
  const { id, cmd, ...args } = msg;
  try {
    const fn = Object.hasOwn(commands, cmd) ? commands[cmd] : null;
    if (!fn) throw new Error(`unknown command ${JSON.stringify(cmd)}`);
    send({ id, ok: true, result: (await fn(args)) ?? {} });
  } catch (err) {
    const e = { id, ok: false, error: String(err?.message ?? err) };
    if (err?.errcode) e.errcode = err.errcode;
    if (err?.httpStatus) e.httpStatus = err.httpStatus;
    if (e.error === "undefined" || !e.error) e.error = format(err);
    send(e);
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => { if (line.trim()) handle(line); });
rl.on("close", () => { if (client) client.stopClient(); process.exit(0); });
send({ id: 0, ok: true, result: { ready: true, node: process.version } });
