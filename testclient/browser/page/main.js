// The page's entry: window.harness holds every function the Node driver may
// call with page.evaluate; window.harnessReady tells it the bundle loaded.
import { login, createDM, join, waitJoined, callEvents, sendText } from "./client.js";
import { listen, placeCall, answerNext, callState, waitState, hangup, stats, remoteFeeds } from "./call.js";
import { waitTone, measure, attach, toneLevels } from "./tone.js";

window.harness = {
  login: (args) => login(args, listen),
  createDM,
  join,
  waitJoined,
  callEvents,
  placeCall,
  answerNext,
  callState,
  waitState,
  hangup,
  stats,
  waitTone,
  toneLevels,
  remoteFeeds,
  sendText,
  measure: () => measure(),
  // listenToMicrophone feeds the page's own fake microphone to the analyser:
  // the tone path checked without a call.
  async listenToMicrophone() {
    attach(await navigator.mediaDevices.getUserMedia({ audio: true }));
    return {};
  },
};
window.harnessReady = true;
