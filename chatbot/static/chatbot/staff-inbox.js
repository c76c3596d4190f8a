/*
 * The live inbox in admin (chatbot/handoff): a list of conversations and one open transcript,
 * kept live over the staff WebSocket /ws/staff/ (frames: docs/protocol.md#live-handoff).
 * No dependencies, no inline script (the admin runs under a strict CSP). The open conversation
 * is kept in the URL's hash, so a reload reopens it.
 */
(function () {
  "use strict";

  var root = document.querySelector(".staff-inbox");
  if (!root) {
    return;
  }
  var list = root.querySelector(".inbox-list");
  var status = root.querySelector(".inbox-status");
  var pane = root.querySelector(".inbox-conversation");
  var title = pane.querySelector(".conversation-title");
  var holder = pane.querySelector(".holder");
  var takeButton = pane.querySelector(".take");
  var releaseButton = pane.querySelector(".release");
  var transcript = pane.querySelector(".transcript");
  var composer = pane.querySelector(".composer");
  var reply = composer.querySelector("textarea");
  var errorNote = pane.querySelector(".inbox-error");
  var notifyButton = root.querySelector(".notify-enable");

  var ws = null;
  var attempt = 0;
  var rows = {}; // conversation id -> inbox row
  var openId = decodeURIComponent(location.hash.replace(/^#/, "")) || null;
  var held = false; // the open conversation is mine
  var streaming = null; // the <li> of the bot answer streaming in the open conversation
  var lastTyping = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + root.getAttribute("data-socket-path"));
    ws.onopen = function () {
      attempt = 0;
    };
    ws.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      handle(frame);
    };
    ws.onclose = function (event) {
      ws = null;
      if (event.code === 4403) {
        status.textContent = "You are not allowed to handle conversations (or your session ended: log in again).";
        status.hidden = false;
        return;
      }
      status.textContent = "Reconnecting…";
      status.hidden = false;
      attempt += 1;
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, attempt - 1)));
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case "inbox":
        status.hidden = true;
        rows = {};
        (frame.conversations || []).forEach(function (row) {
          rows[row.id] = row;
        });
        renderList();
        if (openId) {
          open(openId);
        }
        return;
      case "conversation_update":
        upsert(frame.conversation);
        if (frame.conversation.id === openId) {
          setHeld(frame.conversation.held_by_me, frame.conversation.held_by);
        }
        return;
      case "waiting":
        upsert(frame.conversation);
        notify("A visitor is waiting for a person", frame.text || "", frame.conversation.id);
        return;
      case "visitor_message":
        touch(frame.conversation, frame.text, frame.created_at);
        if (frame.conversation === openId) {
          addLine("visitor", frame.text, null, frame.id);
        }
        if (rows[frame.conversation] && rows[frame.conversation].held_by_me) {
          notify("New message from a visitor", frame.text || "", frame.conversation);
        }
        return;
      case "agent_message":
        touch(frame.conversation, frame.text, frame.created_at);
        if (frame.conversation === openId) {
          addLine("agent", frame.text, frame.name, frame.id);
        }
        return;
      case "answer":
        if (frame.conversation === openId) {
          onAnswer(frame.frame || {});
        }
        return;
      case "transcript":
        if (frame.conversation !== openId) {
          return;
        }
        transcript.textContent = "";
        streaming = null;
        (frame.messages || []).forEach(function (m) {
          addLine(m.role, m.text, m.name, m.id);
        });
        setHeld(frame.held_by_me, frame.held_by);
        pane.hidden = false;
        return;
      case "taken":
        if (frame.conversation === openId) {
          setHeld(true, frame.name);
          reply.focus();
        }
        return;
      case "released":
        if (frame.conversation === openId) {
          setHeld(false, null);
        }
        return;
      case "error":
        showError(frame);
        return;
      default:
        return;
    }
  }

  function showError(frame) {
    errorNote.textContent = frame.message || "Something went wrong.";
    errorNote.hidden = false;
    if (frame.code === "conflict" && frame.conversation === openId) {
      setHeld(false, frame.held_by || null);
    }
  }

  function upsert(row) {
    if (!row || !row.id) {
      return;
    }
    rows[row.id] = Object.assign(rows[row.id] || {}, row);
    renderList();
  }

  function touch(id, text, at) {
    var row = rows[id] || { id: id, waiting: false, held_by: null, held_by_me: false, unanswered: false };
    row.preview = String(text || "").slice(0, 140);
    row.last_message_at = at || new Date().toISOString();
    rows[id] = row;
    renderList();
  }

  function ordered() {
    var all = Object.keys(rows).map(function (id) {
      return rows[id];
    });
    return all.sort(function (a, b) {
      if (a.waiting !== b.waiting) {
        return a.waiting ? -1 : 1;
      }
      if (a.waiting) {
        return a.last_message_at < b.last_message_at ? -1 : 1;
      }
      return a.last_message_at < b.last_message_at ? 1 : -1;
    });
  }

  function renderList() {
    list.textContent = "";
    if (!Object.keys(rows).length) {
      list.appendChild(el("li", "empty", "No conversations in the last day."));
    }
    ordered().forEach(function (row) {
      var button = el("button", "conversation");
      button.type = "button";
      button.setAttribute("data-conversation", row.id);
      if (row.id === openId) {
        button.setAttribute("aria-current", "true");
      }
      if (row.waiting) {
        button.appendChild(el("span", "badge waiting", "Waiting"));
      }
      if (row.held_by) {
        button.appendChild(el("span", "badge held", row.held_by_me ? "You" : row.held_by));
      }
      if (row.unanswered) {
        button.appendChild(el("span", "badge unanswered", "Unanswered"));
      }
      button.appendChild(el("time", "when", (row.last_message_at || "").replace("T", " ").slice(0, 16)));
      button.appendChild(el("span", "preview", row.preview || ""));
      button.addEventListener("click", function () {
        open(row.id);
      });
      var item = el("li");
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function open(id) {
    openId = id;
    if (location.hash !== "#" + id) {
      history.replaceState(null, "", "#" + encodeURIComponent(id));
    }
    errorNote.hidden = true;
    title.textContent = "Conversation " + id.slice(0, 8) + "…";
    renderList();
    send({ type: "open", conversation: id });
  }

  function setHeld(mine, name) {
    held = !!mine;
    holder.textContent = name ? (mine ? "You are handling it" : name + " is handling it") : "The bot is answering";
    takeButton.hidden = held || !!name;
    releaseButton.hidden = !held;
    composer.hidden = !held;
  }

  function addLine(role, text, name, id) {
    if (id && transcript.querySelector('[data-id="' + CSS.escape(id) + '"]')) {
      return null;
    }
    var who = role === "visitor" ? "Visitor" : role === "agent" ? name || "Staff" : "Bot";
    var item = el("li", role);
    if (id) {
      item.setAttribute("data-id", id);
    }
    item.appendChild(el("span", "who", who));
    item.appendChild(document.createTextNode(text || ""));
    transcript.appendChild(item);
    transcript.scrollTop = transcript.scrollHeight;
    return item;
  }

  function onAnswer(frame) {
    if (frame.type === "start") {
      streaming = addLine("assistant", "", null, frame.message_id);
    } else if (frame.type === "token" && streaming) {
      streaming.appendChild(document.createTextNode(frame.text || ""));
      transcript.scrollTop = transcript.scrollHeight;
    } else if (frame.type === "done") {
      streaming = null;
    }
  }

  function notify(heading, body, id) {
    if (!("Notification" in window) || Notification.permission !== "granted") {
      return;
    }
    try {
      var note = new Notification(heading, { body: body, tag: "handoff-" + id });
      note.onclick = function () {
        window.focus();
        open(id);
      };
    } catch (e) {
      /* some browsers allow notifications from service workers only */
    }
  }

  takeButton.addEventListener("click", function () {
    if (openId) {
      send({ type: "take", conversation: openId });
    }
  });
  releaseButton.addEventListener("click", function () {
    if (openId) {
      send({ type: "release", conversation: openId });
    }
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = reply.value.trim();
    if (!text || !openId) {
      return;
    }
    if (send({ type: "message", conversation: openId, text: text })) {
      reply.value = "";
    }
  });
  reply.addEventListener("input", function () {
    var now = Date.now();
    if (openId && held && now - lastTyping > 2000) {
      lastTyping = now;
      send({ type: "typing", conversation: openId });
    }
  });
  if ("Notification" in window && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", function () {
      Notification.requestPermission().then(function () {
        notifyButton.hidden = true;
      });
    });
  }
  connect();
})();
