// The page's one API client; asks for the API token in the token dialog (index.html).

import { createApi } from "./api.js";
import { $ } from "./dom.js";

/** Show the token dialog; resolve to the typed token, or null when the user cancels. */
function askForToken({ again }) {
  const dialog = $("token-dialog");
  const input = $("token-input");
  $("token-error").hidden = !again;
  input.value = "";
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      resolve(dialog.returnValue === "ok" ? input.value : null);
    };
    dialog.addEventListener("close", done);
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}

export function setupTokenDialog() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token-input").value.trim();
    if (!value) {
      $("token-input").focus();
      return;
    }
    $("token-dialog").close("ok");
  });
  $("token-cancel").addEventListener("click", () => $("token-dialog").close("cancel"));
}

export const client = createApi({ ask: askForToken });
export const api = (method, path, body) => client.request(method, path, body);
