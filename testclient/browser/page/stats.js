// WebRTC statistics of a call's peer connection: audio packets received and
// sent, and the addresses of the selected candidate pair.
export async function callStats(call) {
  const pc = call?.peerConn;
  if (!pc) throw new Error("no call with a peer connection");
  const report = await pc.getStats();
  const out = { packetsReceived: 0, bytesReceived: 0, packetsSent: 0 };
  let pairId = null;
  for (const s of report.values()) {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.packetsReceived += s.packetsReceived ?? 0;
      out.bytesReceived += s.bytesReceived ?? 0;
    } else if (s.type === "outbound-rtp" && s.kind === "audio") {
      out.packetsSent += s.packetsSent ?? 0;
    } else if (s.type === "transport" && s.selectedCandidatePairId) {
      pairId = s.selectedCandidatePairId;
    }
  }
  if (!pairId) {
    for (const s of report.values()) {
      if (s.type === "candidate-pair" && s.state === "succeeded" && s.nominated) pairId = s.id;
    }
  }
  const pair = pairId ? report.get(pairId) : null;
  const cand = (id) => {
    const c = id ? report.get(id) : null;
    return c ? { address: c.address ?? c.ip ?? "", port: c.port, protocol: c.protocol, candidateType: c.candidateType } : null;
  };
  if (pair) out.selectedPair = { local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId), state: pair.state };
  return out;
}
