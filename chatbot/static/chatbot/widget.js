/*!
 * Website assistant widget. One script tag on any page:
 *
 *   <script src="https://BOT-HOST/static/chatbot/widget.js" async></script>
 *
 * The bot server is the script's own address (everything before /static/),
 * unless the tag carries data-server="https://BOT-HOST". Optional:
 * data-open="true" opens the panel on load; data-lang="fr" sets the UI
 * language, which otherwise follows the page's <html lang>, else the
 * browser's languages, else English (see STRINGS; the server is told it, so
 * the bot's default texts and its fallback for short messages follow it).
 *
 * Plain JavaScript, no framework, no build step. Everything lives in a Shadow
 * DOM so the host page's CSS cannot break it and its CSS cannot leak out.
 * Text from the server (answers, sources, errors) is only ever put into the
 * page through textContent and createElement, never parsed as HTML.
 */
(function () {
  "use strict";

  // Captured synchronously: document.currentScript is null once async code runs.
  var SCRIPT = document.currentScript || findOwnScript();
  if (!SCRIPT) {
    return;
  }

  var HOST_TAG = "chat-assistant-widget";
  var RECONNECT_BASE_MS = 500;
  var RECONNECT_MAX_MS = 10000;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2zm-3 11H7v-2h10v2zm0-3H7V8h10v2z",
    close: "M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z",
    send: "M2.01 21 23 12 2.01 3 2 10l15 2-15 2z",
    up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
    down: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
    person: "M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z"
  };
  var DEFAULT_COLORS = { primary: "#0f766e", background: "#ffffff", text: "#1f2937" };
  var NBSP = "\u00a0";

  /**
   * The widget's own texts, one table per UI language (the languages of the
   * server's catalogues: a test checks that every table has every key). They
   * live here, not on the server, so that the widget speaks the page's
   * language even when the server refuses this site or cannot be reached.
   */
  var STRINGS = {
    en: {
      name: "Assistant",
      title: "Chat with us",
      greeting: "Hi! Ask me anything.",
      consent: "I agree that my contact details are stored and used to contact me about my request.",
      youSaid: "You said:",
      botSaid: "{name} said:",
      typing: "{name} is typing",
      source: "Source",
      sourceLabel: "Source {n}: {title}",
      sources: "Sources",
      oneSource: "1 source",
      manySources: "{n} sources",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      wasHelpful: "Was this answer helpful?",
      feedbackThanks: "Thanks for your feedback.",
      error: "Something went wrong.",
      notAvailable: "The assistant is not available on this website.",
      retryIn: "(try again in {s} s)",
      reconnecting: "Connection lost. Reconnecting…",
      connected: "Connected.",
      retryNow: "Retry now",
      placeholder: "Ask a question…",
      yourMessage: "Your message",
      send: "Send message",
      contactOpen: "Leave your contact details",
      talkToPerson: "Talk to a person",
      closeChat: "Close chat",
      close: "Close",
      openFor: "Open chat: {title}",
      closeFor: "Close chat: {title}",
      conversation: "Conversation",
      footer: "Answers come from our knowledge base and may be incomplete.",
      offerAnnounce: "You can leave your contact details and our team will get back to you.",
      formTitle: "Leave your details and our team will get back to you.",
      fieldName: "Name",
      fieldEmail: "Email",
      fieldPhone: "Phone",
      sendDetails: "Send my details",
      sending: "Sending…",
      notNow: "Not now",
      needContact: "Please give an email address or a phone number.",
      checkEmail: "Please check the email address.",
      needConsent: "Please tick the box to agree to be contacted.",
      dropped: "The connection dropped before your details arrived. Please send them again.",
      leadCaptured: "Thanks! Our team will get back to you soon.",
      leadUpdated: "Thanks, we've noted your details. Our team will get back to you.",
      agentJoined: "{name} joined the conversation.",
      agentLeft: "{name} left the conversation; the assistant answers again.",
      agentSaid: "{name} (our team) said:"
    },
    fr: {
      name: "Assistant",
      title: "Discutez avec nous",
      greeting: "Bonjour" + NBSP + "! Posez-moi vos questions.",
      consent: "J'accepte que mes coordonnées soient enregistrées et utilisées pour me contacter au sujet de ma demande.",
      youSaid: "Vous avez écrit" + NBSP + ":",
      botSaid: "{name} a répondu" + NBSP + ":",
      typing: "{name} est en train d'écrire",
      source: "Source",
      sourceLabel: "Source {n}" + NBSP + ": {title}",
      sources: "Sources",
      oneSource: "1 source",
      manySources: "{n} sources",
      helpful: "Utile",
      notHelpful: "Pas utile",
      wasHelpful: "Cette réponse vous a-t-elle aidé" + NBSP + "?",
      feedbackThanks: "Merci pour votre avis.",
      error: "Une erreur s'est produite.",
      notAvailable: "L'assistant n'est pas disponible sur ce site.",
      retryIn: "(réessayez dans {s} s)",
      reconnecting: "Connexion perdue. Reconnexion…",
      connected: "Connecté.",
      retryNow: "Réessayer maintenant",
      placeholder: "Posez une question…",
      yourMessage: "Votre message",
      send: "Envoyer le message",
      contactOpen: "Laisser vos coordonnées",
      talkToPerson: "Parler à quelqu'un",
      closeChat: "Fermer la discussion",
      close: "Fermer",
      openFor: "Ouvrir la discussion" + NBSP + ": {title}",
      closeFor: "Fermer la discussion" + NBSP + ": {title}",
      conversation: "Conversation",
      footer: "Les réponses proviennent de notre base de connaissances et peuvent être incomplètes.",
      offerAnnounce: "Vous pouvez laisser vos coordonnées et notre équipe vous recontactera.",
      formTitle: "Laissez vos coordonnées et notre équipe vous recontactera.",
      fieldName: "Nom",
      fieldEmail: "E-mail",
      fieldPhone: "Téléphone",
      sendDetails: "Envoyer mes coordonnées",
      sending: "Envoi…",
      notNow: "Pas maintenant",
      needContact: "Veuillez indiquer une adresse e-mail ou un numéro de téléphone.",
      checkEmail: "Veuillez vérifier l'adresse e-mail.",
      needConsent: "Veuillez cocher la case pour accepter d'être contacté.",
      dropped: "La connexion a été coupée avant la réception de vos coordonnées. Veuillez les renvoyer.",
      leadCaptured: "Merci" + NBSP + "! Notre équipe vous recontactera bientôt.",
      leadUpdated: "Merci, nous avons bien noté vos coordonnées. Notre équipe vous recontactera.",
      agentJoined: "{name} a rejoint la conversation.",
      agentLeft: "{name} a quitté la conversation" + NBSP + "; l'assistant répond à nouveau.",
      agentSaid: "{name} (notre équipe) a écrit" + NBSP + ":"
    },
    de: {
      name: "Assistent",
      title: "Chatten Sie mit uns",
      greeting: "Hallo! Fragen Sie mich einfach.",
      consent: "Ich bin damit einverstanden, dass meine Kontaktdaten gespeichert und genutzt werden, um mich zu meiner Anfrage zu kontaktieren.",
      youSaid: "Sie schrieben:",
      botSaid: "{name} schrieb:",
      typing: "{name} schreibt",
      source: "Quelle",
      sourceLabel: "Quelle {n}: {title}",
      sources: "Quellen",
      oneSource: "1 Quelle",
      manySources: "{n} Quellen",
      helpful: "Hilfreich",
      notHelpful: "Nicht hilfreich",
      wasHelpful: "War diese Antwort hilfreich?",
      feedbackThanks: "Danke für Ihr Feedback.",
      error: "Etwas ist schiefgelaufen.",
      notAvailable: "Der Assistent ist auf dieser Website nicht verfügbar.",
      retryIn: "(erneut versuchen in {s} s)",
      reconnecting: "Verbindung unterbrochen. Neuer Verbindungsversuch…",
      connected: "Verbunden.",
      retryNow: "Jetzt erneut versuchen",
      placeholder: "Stellen Sie eine Frage…",
      yourMessage: "Ihre Nachricht",
      send: "Nachricht senden",
      contactOpen: "Kontaktdaten hinterlassen",
      talkToPerson: "Mit einem Menschen sprechen",
      closeChat: "Chat schließen",
      close: "Schließen",
      openFor: "Chat öffnen: {title}",
      closeFor: "Chat schließen: {title}",
      conversation: "Unterhaltung",
      footer: "Die Antworten stammen aus unserer Wissensdatenbank und können unvollständig sein.",
      offerAnnounce: "Sie können uns Ihre Kontaktdaten hinterlassen, dann meldet sich unser Team bei Ihnen.",
      formTitle: "Hinterlassen Sie Ihre Kontaktdaten, dann meldet sich unser Team bei Ihnen.",
      fieldName: "Name",
      fieldEmail: "E-Mail",
      fieldPhone: "Telefon",
      sendDetails: "Meine Daten senden",
      sending: "Wird gesendet…",
      notNow: "Nicht jetzt",
      needContact: "Bitte geben Sie eine E-Mail-Adresse oder eine Telefonnummer an.",
      checkEmail: "Bitte überprüfen Sie die E-Mail-Adresse.",
      needConsent: "Bitte setzen Sie das Häkchen, um der Kontaktaufnahme zuzustimmen.",
      dropped: "Die Verbindung wurde unterbrochen, bevor Ihre Daten ankamen. Bitte senden Sie sie erneut.",
      leadCaptured: "Danke! Unser Team meldet sich bald bei Ihnen.",
      leadUpdated: "Danke, wir haben Ihre Daten notiert. Unser Team meldet sich bei Ihnen.",
      agentJoined: "{name} ist dem Gespräch beigetreten.",
      agentLeft: "{name} hat das Gespräch verlassen; der Assistent antwortet wieder.",
      agentSaid: "{name} (unser Team) schrieb:"
    },
    es: {
      name: "Asistente",
      title: "Chatee con nosotros",
      greeting: "¡Hola! Pregúnteme lo que quiera.",
      consent: "Acepto que mis datos de contacto se guarden y se utilicen para contactarme en relación con mi solicitud.",
      youSaid: "Usted escribió:",
      botSaid: "{name} respondió:",
      typing: "{name} está escribiendo",
      source: "Fuente",
      sourceLabel: "Fuente {n}: {title}",
      sources: "Fuentes",
      oneSource: "1 fuente",
      manySources: "{n} fuentes",
      helpful: "Útil",
      notHelpful: "No es útil",
      wasHelpful: "¿Le ha sido útil esta respuesta?",
      feedbackThanks: "Gracias por su opinión.",
      error: "Algo ha salido mal.",
      notAvailable: "El asistente no está disponible en este sitio web.",
      retryIn: "(inténtelo de nuevo en {s} s)",
      reconnecting: "Se ha perdido la conexión. Reconectando…",
      connected: "Conectado.",
      retryNow: "Reintentar ahora",
      placeholder: "Haga una pregunta…",
      yourMessage: "Su mensaje",
      send: "Enviar mensaje",
      contactOpen: "Dejar sus datos de contacto",
      talkToPerson: "Hablar con una persona",
      closeChat: "Cerrar el chat",
      close: "Cerrar",
      openFor: "Abrir el chat: {title}",
      closeFor: "Cerrar el chat: {title}",
      conversation: "Conversación",
      footer: "Las respuestas proceden de nuestra base de conocimientos y pueden estar incompletas.",
      offerAnnounce: "Puede dejarnos sus datos de contacto y nuestro equipo se pondrá en contacto con usted.",
      formTitle: "Déjenos sus datos y nuestro equipo se pondrá en contacto con usted.",
      fieldName: "Nombre",
      fieldEmail: "Correo electrónico",
      fieldPhone: "Teléfono",
      sendDetails: "Enviar mis datos",
      sending: "Enviando…",
      notNow: "Ahora no",
      needContact: "Indique una dirección de correo electrónico o un número de teléfono.",
      checkEmail: "Compruebe la dirección de correo electrónico.",
      needConsent: "Marque la casilla para aceptar que nos pongamos en contacto con usted.",
      dropped: "La conexión se cortó antes de que llegaran sus datos. Envíelos de nuevo, por favor.",
      leadCaptured: "¡Gracias! Nuestro equipo se pondrá en contacto con usted pronto.",
      leadUpdated: "Gracias, hemos anotado sus datos. Nuestro equipo se pondrá en contacto con usted.",
      agentJoined: "{name} se ha unido a la conversación.",
      agentLeft: "{name} ha salido de la conversación; el asistente vuelve a responder.",
      agentSaid: "{name} (nuestro equipo) dijo:"
    },
    nl: {
      name: "Assistent",
      title: "Chat met ons",
      greeting: "Hallo! Stel gerust uw vraag.",
      consent: "Ik ga ermee akkoord dat mijn contactgegevens worden opgeslagen en gebruikt om contact met mij op te nemen over mijn vraag.",
      youSaid: "U schreef:",
      botSaid: "{name} antwoordde:",
      typing: "{name} is aan het typen",
      source: "Bron",
      sourceLabel: "Bron {n}: {title}",
      sources: "Bronnen",
      oneSource: "1 bron",
      manySources: "{n} bronnen",
      helpful: "Nuttig",
      notHelpful: "Niet nuttig",
      wasHelpful: "Was dit antwoord nuttig?",
      feedbackThanks: "Bedankt voor uw feedback.",
      error: "Er is iets misgegaan.",
      notAvailable: "De assistent is niet beschikbaar op deze website.",
      retryIn: "(probeer het over {s} s opnieuw)",
      reconnecting: "Verbinding verbroken. Opnieuw verbinden…",
      connected: "Verbonden.",
      retryNow: "Nu opnieuw proberen",
      placeholder: "Stel een vraag…",
      yourMessage: "Uw bericht",
      send: "Bericht versturen",
      contactOpen: "Uw contactgegevens achterlaten",
      talkToPerson: "Met een medewerker praten",
      closeChat: "Chat sluiten",
      close: "Sluiten",
      openFor: "Chat openen: {title}",
      closeFor: "Chat sluiten: {title}",
      conversation: "Gesprek",
      footer: "De antwoorden komen uit onze kennisbank en kunnen onvolledig zijn.",
      offerAnnounce: "U kunt uw contactgegevens achterlaten, dan neemt ons team contact met u op.",
      formTitle: "Laat uw gegevens achter, dan neemt ons team contact met u op.",
      fieldName: "Naam",
      fieldEmail: "E-mail",
      fieldPhone: "Telefoon",
      sendDetails: "Mijn gegevens versturen",
      sending: "Bezig met versturen…",
      notNow: "Niet nu",
      needContact: "Vul een e-mailadres of een telefoonnummer in.",
      checkEmail: "Controleer het e-mailadres.",
      needConsent: "Vink het vakje aan om akkoord te gaan met contact.",
      dropped: "De verbinding werd verbroken voordat uw gegevens aankwamen. Verstuur ze opnieuw.",
      leadCaptured: "Bedankt! Ons team neemt binnenkort contact met u op.",
      leadUpdated: "Bedankt, we hebben uw gegevens genoteerd. Ons team neemt contact met u op.",
      agentJoined: "{name} neemt deel aan het gesprek.",
      agentLeft: "{name} heeft het gesprek verlaten; de assistent antwoordt weer.",
      agentSaid: "{name} (ons team) schreef:"
    }
  };

  var STYLES = [
    ":host{all:initial !important;position:fixed !important;z-index:2147483000 !important;",
    "bottom:0 !important;right:0 !important;display:block !important;width:0 !important;height:0 !important;",
    "visibility:visible !important;opacity:1 !important;transform:none !important}",
    ".root{--primary:#0f766e;--on-primary:#fff;--bg:#fff;--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;",
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--text);",
    "-webkit-font-smoothing:antialiased;text-align:left;letter-spacing:normal}",
    ".root *,.root *::before,.root *::after{box-sizing:border-box}",
    "[hidden]{display:none !important}",
    "button,input,textarea{font:inherit;color:inherit}",
    "svg{width:22px;height:22px;fill:currentColor;flex:none}",
    ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;",
    "background:var(--primary);color:var(--on-primary);display:flex;align-items:center;justify-content:center;",
    "box-shadow:0 6px 20px rgba(0,0,0,.25);transition:transform .15s}",
    ".launcher:hover{transform:scale(1.06)}",
    ".launcher svg{width:28px;height:28px}",
    ":focus-visible{outline:3px solid #2563eb;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:92px;width:380px;height:min(620px,calc(100vh - 112px));",
    "background:var(--bg);color:var(--text);border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.28);",
    "display:flex;flex-direction:column;overflow:hidden;border:1px solid var(--line)}",
    ".panel[hidden]{display:none}",
    ".header{display:flex;align-items:center;gap:8px;padding:12px 12px 12px 16px;background:var(--primary);color:var(--on-primary)}",
    ".title{flex:1;margin:0;font-size:16px;font-weight:600;line-height:1.3;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".icon-btn{border:0;background:transparent;color:inherit;cursor:pointer;width:36px;height:36px;border-radius:8px;",
    "display:flex;align-items:center;justify-content:center;padding:0}",
    ".icon-btn:hover{background:rgba(255,255,255,.18)}",
    ".status{padding:6px 16px;font-size:13px;background:#fef3c7;color:#78350f;display:flex;gap:8px;align-items:center}",
    ".status[hidden]{display:none}",
    ".status button{border:0;background:transparent;text-decoration:underline;cursor:pointer;padding:0;color:inherit}",
    ".status.fatal{background:#fee2e2;color:#7f1d1d}",
    ".messages{flex:1;overflow-y:auto;overflow-x:hidden;padding:16px;display:flex;flex-direction:column;gap:12px;overscroll-behavior:contain}",
    ".msg{display:flex;flex-direction:column;max-width:88%;min-width:0}",
    ".msg.visitor{align-self:flex-end;align-items:flex-end}",
    ".msg.assistant{align-self:flex-start}",
    ".bubble{padding:10px 12px;border-radius:14px;overflow-wrap:anywhere;min-width:0;max-width:100%}",
    ".visitor .bubble{background:var(--primary);color:var(--on-primary);border-bottom-right-radius:4px;white-space:pre-wrap}",
    ".assistant .bubble{background:#f3f4f6;color:#111827;border-bottom-left-radius:4px}",
    ".msg.pending .bubble{opacity:.6}",
    ".msg.agent{align-self:flex-start}",
    ".agent .bubble{background:#ecfdf5;color:#064e3b;border-bottom-left-radius:4px;white-space:pre-wrap}",
    ".agent .who{font-size:12px;font-weight:600;margin:0 0 2px 4px;color:#065f46}",
    ".note{align-self:center;font-size:12px;color:#4b5563;text-align:center;padding:2px 8px}",
    ".bubble:empty{display:none}",
    ".bubble p{margin:0 0 8px}.bubble p:last-child{margin-bottom:0}",
    ".bubble ul,.bubble ol{margin:0 0 8px;padding-left:20px}.bubble li{margin:2px 0}",
    ".table-wrap{overflow-x:auto;margin:0 0 8px;max-width:100%}.table-wrap:last-child{margin-bottom:0}",
    ".bubble table{border-collapse:collapse;font-size:13px}",
    ".bubble th,.bubble td{border:1px solid #d1d5db;padding:4px 6px;text-align:left;vertical-align:top}",
    ".bubble th{background:rgba(0,0,0,.04);font-weight:600}",
    ".bubble blockquote{margin:0 0 8px;padding-left:10px;border-left:3px solid #d1d5db;color:#374151}",
    ".bubble code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:rgba(0,0,0,.06);padding:0 3px;border-radius:4px}",
    ".bubble a{color:#0e5a8a;text-decoration:underline}",
    ".cite{font-size:11px;font-weight:600;vertical-align:super;line-height:0;text-decoration:none !important;margin:0 1px}",
    ".sources{margin:6px 0 0;padding:0;list-style:none;display:flex;flex-direction:column;gap:4px;font-size:13px;max-width:100%}",
    ".sources-label{font-size:12px;color:var(--muted);margin:6px 0 0}",
    ".sources a{color:#0e5a8a;text-decoration:none;display:inline-block;max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}",
    ".sources a:hover{text-decoration:underline}",
    ".feedback{display:flex;gap:4px;margin-top:4px}",
    ".feedback button{border:1px solid var(--line);background:#fff;border-radius:8px;width:32px;height:28px;cursor:pointer;color:var(--muted);display:flex;align-items:center;justify-content:center;padding:0}",
    ".feedback svg{width:16px;height:16px}",
    ".feedback button[aria-pressed=true]{background:var(--primary);color:var(--on-primary);border-color:var(--primary)}",
    ".notice{align-self:stretch;font-size:13px;padding:8px 12px;border-radius:10px;background:#fee2e2;color:#7f1d1d}",
    ".typing{align-self:flex-start;display:flex;gap:4px;padding:12px 14px;background:#f3f4f6;border-radius:14px}",
    ".typing span{width:7px;height:7px;border-radius:50%;background:#9ca3af;animation:blink 1.2s infinite both}",
    ".typing span:nth-child(2){animation-delay:.2s}.typing span:nth-child(3){animation-delay:.4s}",
    "@keyframes blink{0%,80%,100%{opacity:.25}40%{opacity:1}}",
    ".contact{align-self:stretch;border:1px solid var(--line);border-radius:12px;padding:12px;display:flex;flex-direction:column;gap:8px;background:#fafafa}",
    ".contact-title{margin:0;font-weight:600}",
    ".contact label.field{display:flex;flex-direction:column;gap:2px;font-size:13px}",
    ".contact input[type=text],.contact input[type=email],.contact input[type=tel]{width:100%;padding:8px 10px;border:1px solid #d1d5db;border-radius:8px;background:#fff;font-size:16px}",
    ".contact input[aria-invalid=true]{border-color:#dc2626}",
    ".contact .consent{display:flex;gap:8px;align-items:flex-start;font-size:12px;color:#374151}",
    ".contact .consent input{margin-top:2px;width:16px;height:16px;flex:none}",
    ".contact .form-error{margin:0;color:#b91c1c;font-size:13px}",
    ".contact .form-error:empty{display:none}",
    ".contact .actions{display:flex;gap:8px;flex-wrap:wrap}",
    ".btn{border:0;border-radius:8px;padding:8px 14px;cursor:pointer;font-weight:600}",
    ".btn.primary{background:var(--primary);color:var(--on-primary)}",
    ".btn.secondary{background:transparent;color:var(--muted)}",
    ".btn[disabled]{opacity:.6;cursor:progress}",
    ".thanks{align-self:stretch;font-size:13px;padding:8px 12px;border-radius:10px;background:#dcfce7;color:#14532d}",
    ".composer{display:flex;gap:8px;padding:10px 12px;border-top:1px solid var(--line);align-items:flex-end;background:var(--bg)}",
    ".composer textarea{flex:1;min-width:0;resize:none;border:1px solid #d1d5db;border-radius:10px;padding:9px 12px;",
    "max-height:120px;min-height:40px;line-height:1.35;background:#fff;color:#111827;font-size:16px}",
    ".send{width:40px;height:40px;border-radius:10px;border:0;background:var(--primary);color:var(--on-primary);cursor:pointer;display:flex;align-items:center;justify-content:center;flex:none;padding:0}",
    ".footer-note{font-size:11px;color:var(--muted);text-align:center;padding:0 12px 8px;background:var(--bg)}",
    "@media (max-width:480px){",
    ".panel{right:0;bottom:0;left:0;top:0;width:auto;height:auto;max-height:none;border-radius:0;border:0}",
    ".root.open .launcher{display:none}",
    ".msg{max-width:92%}}",
    "@media (prefers-reduced-motion:reduce){.typing span{animation:none}.launcher{transition:none}}"
  ].join("");

  /** data-lang on the script tag, else the page's <html lang>, else the browser's languages, else English. */
  function uiLanguage(script) {
    var wanted = [script.getAttribute("data-lang"), document.documentElement.getAttribute("lang")]
      .concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").trim().toLowerCase().split(/[-_]/)[0];
      if (code && Object.prototype.hasOwnProperty.call(STRINGS, code)) {
        return code;
      }
    }
    return "en";
  }

  /** "{name} said:" with values filled in. */
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function findOwnScript() {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/chatbot\/widget\.js(\?|#|$)/.test(scripts[i].src || "")) {
        return scripts[i];
      }
    }
    return null;
  }

  /** The bot server: data-server, else the script URL up to /static/. */
  function serverBase(script) {
    var explicit = script.getAttribute("data-server");
    var raw = explicit || script.src;
    var url = new URL(raw, document.baseURI);
    if (explicit) {
      return url.origin + url.pathname.replace(/\/+$/, "");
    }
    var path = url.pathname;
    var cut = path.lastIndexOf("/static/");
    return url.origin + (cut > 0 ? path.slice(0, cut) : "");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) {
          return;
        }
        if (key === "text") {
          node.textContent = value;
        } else if (key === "className") {
          node.className = value;
        } else {
          node.setAttribute(key, value === true ? "" : String(value));
        }
      });
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /**
   * A constructable stylesheet where the browser has them: a page's
   * Content-Security-Policy governs <style> elements (they would need
   * style-src 'unsafe-inline') but not stylesheets built by script.
   */
  function adoptStyles(shadow, css) {
    try {
      if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function") {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        shadow.adoptedStyleSheets = [sheet];
        return;
      }
    } catch (err) {
      /* an older browser without constructable stylesheets: fall through */
    }
    shadow.appendChild(el("style", { text: css }));
  }

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function storage() {
    try {
      var probe = "__chat_probe__";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (err) {
      return null;
    }
  }

  // --- Safe Markdown subset -------------------------------------------------

  /**
   * Returns an absolute http(s) URL for href, resolved against the bot
   * server (source pages live there, not on the host site), or null for
   * anything else: javascript:, data:, vbscript:, malformed URLs.
   */
  function safeUrl(href, base) {
    if (typeof href !== "string" || !href.trim()) {
      return null;
    }
    try {
      var url = new URL(href.trim(), base + "/");
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  var INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+?\*\*)|(\*[^*\s][^*\n]*?\*)|\[([^\]\n]+)\]\(([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)|\[(\d{1,3})\]|(https?:\/\/[^\s<>"')\]]+[^\s<>"').,;:!?\]])/g;

  /** Appends text with inline Markdown to parent, as DOM nodes only. */
  function renderInline(text, parent, ctx, depth) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    var pieces = [];
    while ((match = INLINE.exec(text)) !== null) {
      pieces.push({ index: match.index, match: match.slice(0), length: match[0].length });
    }
    pieces.forEach(function (piece) {
      var m = piece.match;
      if (piece.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, piece.index)));
      }
      last = piece.index + piece.length;
      if (m[1]) {
        parent.appendChild(el("code", { text: m[1].slice(1, -1) }));
      } else if (m[2] || m[3]) {
        var strong = !!m[2];
        var inner = strong ? m[2].slice(2, -2) : m[3].slice(1, -1);
        var node = el(strong ? "strong" : "em");
        if (depth < 3) {
          renderInline(inner, node, ctx, depth + 1);
        } else {
          node.textContent = inner;
        }
        parent.appendChild(node);
      } else if (m[4] !== undefined) {
        var href = safeUrl(m[5], ctx.base);
        if (href) {
          var link = el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow" });
          link.textContent = m[4];
          parent.appendChild(link);
        } else {
          parent.appendChild(document.createTextNode(m[0]));
        }
      } else if (m[6]) {
        parent.appendChild(citation(Number(m[6]), ctx));
      } else if (m[7]) {
        var auto = safeUrl(m[7], ctx.base);
        parent.appendChild(
          auto
            ? el("a", { href: auto, target: "_blank", rel: "noopener noreferrer nofollow", text: m[7] })
            : document.createTextNode(m[7])
        );
      }
    });
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function citation(n, ctx) {
    var source = null;
    (ctx.sources || []).forEach(function (item) {
      if (Number(item.n) === n) {
        source = item;
      }
    });
    var href = source ? safeUrl(source.url, ctx.base) : null;
    if (!href) {
      return el("span", { className: "cite", text: "[" + n + "]" });
    }
    return el("a", {
      className: "cite",
      href: href,
      target: "_blank",
      rel: "noopener noreferrer",
      "aria-label": fill(ctx.strings.sourceLabel, { n: n, title: source.title || href }),
      text: "[" + n + "]"
    });
  }

  var TABLE_ROW = /^\s*\|(.*)\|\s*$/;
  var TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

  function tableCells(line) {
    return TABLE_ROW.exec(line)[1].split("|").map(function (cell) {
      return cell.trim();
    });
  }

  /** A pipe table (a header row, a |---| rule, body rows) as table elements; cells hold inline Markdown. */
  function renderTable(rows, ctx) {
    var header = tableCells(rows[0]);
    var headRow = el("tr");
    header.forEach(function (cell) {
      var th = el("th", { scope: "col" });
      renderInline(cell, th, ctx, 0);
      headRow.appendChild(th);
    });
    var body = el("tbody");
    rows.slice(2).forEach(function (line) {
      var tr = el("tr");
      var cells = tableCells(line);
      header.forEach(function (unused, index) {
        var td = el("td");
        renderInline(cells[index] || "", td, ctx, 0);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    return el("div", { className: "table-wrap" }, [el("table", null, [el("thead", null, [headRow]), body])]);
  }

  /**
   * Paragraphs, line breaks, bullet and numbered lists, pipe tables, quotes,
   * headings (shown bold), bold, italic, code, http(s)/relative links and [n]
   * citations. Everything else stays literal text.
   */
  function renderMarkdown(text, container, ctx) {
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    var lines = String(text || "").replace(/\r\n?/g, "\n").split("\n");
    var block = null;
    var blockKind = null;

    function close() {
      block = null;
      blockKind = null;
    }
    function open(kind, node) {
      container.appendChild(node);
      block = node;
      blockKind = kind;
      return node;
    }

    for (var index = 0; index < lines.length; index++) {
      var line = lines[index];
      if (TABLE_ROW.test(line) && index + 1 < lines.length && TABLE_RULE.test(lines[index + 1])) {
        var rows = [line, lines[index + 1]];
        index += 2;
        while (index < lines.length && TABLE_ROW.test(lines[index])) {
          rows.push(lines[index]);
          index += 1;
        }
        index -= 1;
        close();
        container.appendChild(renderTable(rows, ctx));
        continue;
      }
      var bullet = /^\s*[-*+\u2022]\s+(.*)$/.exec(line);
      var numbered = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
      var quote = /^\s*>\s?(.*)$/.exec(line);
      var heading = /^\s*#{1,6}\s+(.*)$/.exec(line);
      if (!line.trim()) {
        close();
      } else if (bullet) {
        if (blockKind !== "ul") {
          open("ul", el("ul"));
        }
        var li = el("li");
        renderInline(bullet[1], li, ctx, 0);
        block.appendChild(li);
      } else if (numbered) {
        if (blockKind !== "ol") {
          var ol = el("ol");
          if (numbered[1] !== "1") {
            ol.setAttribute("start", String(Number(numbered[1])));
          }
          open("ol", ol);
        }
        var item = el("li");
        renderInline(numbered[2], item, ctx, 0);
        block.appendChild(item);
      } else if (quote) {
        if (blockKind !== "quote") {
          open("quote", el("blockquote"));
        } else {
          block.appendChild(el("br"));
        }
        renderInline(quote[1], block, ctx, 0);
      } else if (heading) {
        close();
        var strong = el("strong");
        renderInline(heading[1], strong, ctx, 0);
        container.appendChild(el("p", null, [strong]));
      } else {
        if (blockKind !== "p") {
          open("p", el("p"));
        } else {
          block.appendChild(el("br"));
        }
        renderInline(line, block, ctx, 0);
      }
    }
  }

  // --- The widget -------------------------------------------------------------

  function Widget(script) {
    this.base = serverBase(script);
    this.wsBase = this.base.replace(/^http/, "ws");
    this.lang = uiLanguage(script);
    this.t = STRINGS[this.lang];
    this.consentText = this.t.consent;
    this.startOpen = script.getAttribute("data-open") === "true";
    this.store = storage();
    this.key = "chat-assistant:" + this.base + ":";
    this.bot = { name: this.t.name, title: this.t.title, greeting: this.t.greeting, colors: DEFAULT_COLORS };
    this.ws = null;
    this.conversationId = this.read("conversation");
    this.attempt = 0;
    this.reconnectTimer = null;
    this.ready = false;
    this.refused = false;
    this.busy = false;
    this.current = null;
    this.outbox = [];
    this.leadPending = false;
    this.contactForm = null;
    this.contactOfferedFor = null;
  }

  Widget.prototype.read = function (name) {
    try {
      return this.store ? this.store.getItem(this.key + name) : null;
    } catch (err) {
      return null;
    }
  };

  Widget.prototype.write = function (name, value) {
    try {
      if (!this.store) {
        return;
      }
      if (value === null) {
        this.store.removeItem(this.key + name);
      } else {
        this.store.setItem(this.key + name, value);
      }
    } catch (err) {
      /* storage full or blocked: the conversation just won't survive a reload */
    }
  };

  Widget.prototype.mount = function () {
    var self = this;
    this.host = document.createElement(HOST_TAG);
    this.host.setAttribute("data-server", this.base);
    var shadow = this.host.attachShadow({ mode: "open" });
    adoptStyles(shadow, STYLES);

    this.launcher = el("button", {
      type: "button",
      className: "launcher",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": "chat-panel"
    }, [icon("chat")]);
    this.titleEl = el("h2", { className: "title", id: "chat-title" });
    var t = this.t;
    this.contactButton = el("button", { type: "button", className: "icon-btn contact-open", "aria-label": t.contactOpen, title: t.talkToPerson }, [icon("person")]);
    this.closeButton = el("button", { type: "button", className: "icon-btn close", "aria-label": t.closeChat, title: t.close }, [icon("close")]);
    this.statusText = el("span");
    this.retryButton = el("button", { type: "button", text: t.retryNow, hidden: true });
    this.status = el("div", { className: "status", role: "status", hidden: true }, [this.statusText, this.retryButton]);
    this.messages = el("div", { className: "messages", role: "log", "aria-live": "off", "aria-label": t.conversation, tabindex: "0" });
    this.input = el("textarea", {
      id: "chat-input",
      rows: "1",
      placeholder: t.placeholder,
      "aria-label": t.yourMessage,
      autocomplete: "off",
      enterkeyhint: "send"
    });
    this.sendButton = el("button", { type: "submit", className: "send", "aria-label": t.send }, [icon("send")]);
    this.composer = el("form", { className: "composer", novalidate: true }, [this.input, this.sendButton]);
    this.live = el("div", { className: "sr-only live", "aria-live": "polite", "aria-atomic": "true" });
    this.panel = el("section", {
      className: "panel",
      id: "chat-panel",
      role: "dialog",
      "aria-labelledby": "chat-title",
      hidden: true
    }, [
      el("div", { className: "header" }, [this.titleEl, this.contactButton, this.closeButton]),
      this.status,
      this.messages,
      this.composer,
      el("div", { className: "footer-note", text: t.footer }),
      this.live
    ]);
    this.root = el("div", { className: "root", lang: this.lang }, [this.panel, this.launcher]);
    shadow.appendChild(this.root);
    document.body.appendChild(this.host);

    this.launcher.addEventListener("click", function () {
      self.toggle(true);
    });
    this.closeButton.addEventListener("click", function () {
      self.close();
    });
    this.contactButton.addEventListener("click", function () {
      self.offerContact(true);
    });
    this.retryButton.addEventListener("click", function () {
      self.reconnectNow();
    });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        self.close();
      }
    });
    this.composer.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submitMessage();
    });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        self.submitMessage();
      }
    });
    this.messages.addEventListener("scroll", function () {
      var list = self.messages;
      self.followTail = list.scrollHeight - list.scrollTop - list.clientHeight < 48;
    });
    this.input.addEventListener("input", function () {
      self.input.style.height = "auto";
      self.input.style.height = Math.min(self.input.scrollHeight + 2, 120) + "px";
    });
    window.addEventListener("online", function () {
      self.reconnectNow();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && self.reconnectTimer) {
        self.reconnectNow();
      }
    });

    this.applyBot(this.bot);
    this.renderGreetingOnly();
    this.loadBotSettings();
    if (this.startOpen || this.read("open") === "1") {
      this.toggle(false);
    }
  };

  Widget.prototype.loadBotSettings = function () {
    var self = this;
    if (!window.fetch) {
      return;
    }
    fetch(this.base + "/api/bot/?lang=" + this.lang, { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (bot) {
        if (bot && typeof bot === "object") {
          self.applyBot(bot);
        }
      })
      .catch(function () {
        /* the conversation frame carries the same settings */
      });
  };

  function validColor(value) {
    return typeof value === "string" && value.length < 64 && window.CSS && window.CSS.supports("color", value);
  }

  /** Black or white text, whichever reads better on a #rrggbb background. */
  function onColor(hex) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
    if (!m) {
      return "#ffffff";
    }
    var rgb = [m[1], m[2], m[3]].map(function (h) {
      var c = parseInt(h, 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return luminance > 0.4 ? "#111827" : "#ffffff";
  }

  Widget.prototype.applyBot = function (bot) {
    var merged = {
      name: bot.name || this.bot.name,
      title: bot.title || bot.name || this.bot.title,
      greeting: typeof bot.greeting === "string" ? bot.greeting : this.bot.greeting,
      colors: {}
    };
    var colors = bot.colors || {};
    var previous = this.bot.colors || DEFAULT_COLORS;
    ["primary", "background", "text"].forEach(function (name) {
      merged.colors[name] = validColor(colors[name]) ? colors[name] : previous[name];
    });
    if (typeof bot.consent_text === "string" && bot.consent_text.trim()) {
      this.consentText = bot.consent_text.trim();
    }
    var greetingChanged = merged.greeting !== this.bot.greeting;
    this.bot = merged;
    this.root.style.setProperty("--primary", merged.colors.primary);
    this.root.style.setProperty("--on-primary", onColor(merged.colors.primary));
    this.root.style.setProperty("--bg", merged.colors.background);
    this.root.style.setProperty("--text", merged.colors.text);
    this.titleEl.textContent = merged.title;
    this.updateLauncher();
    if (greetingChanged && this.greetingBubble) {
      this.renderGreeting();
    }
  };

  Widget.prototype.updateLauncher = function () {
    var open = !this.panel.hidden;
    var label = fill(open ? this.t.closeFor : this.t.openFor, { title: this.bot.title });
    this.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    this.launcher.setAttribute("aria-label", label);
    this.launcher.setAttribute("title", label);
    this.launcher.replaceChild(icon(open ? "close" : "chat"), this.launcher.firstChild);
  };

  Widget.prototype.toggle = function (focus) {
    if (!this.panel.hidden) {
      this.close();
      return;
    }
    this.panel.hidden = false;
    this.root.classList.add("open");
    this.updateLauncher();
    this.write("open", "1");
    if (!this.ws && !this.refused) {
      this.connect();
    }
    this.scrollDown(true);
    if (focus) {
      this.input.focus();
    }
  };

  Widget.prototype.close = function () {
    if (this.panel.hidden) {
      return;
    }
    this.panel.hidden = true;
    this.root.classList.remove("open");
    this.updateLauncher();
    this.write("open", null);
    this.launcher.focus();
  };

  // --- Connection ---------------------------------------------------------------

  Widget.prototype.connect = function () {
    var self = this;
    if (this.refused || (this.ws && this.ws.readyState <= 1)) {
      return;
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    var url = this.wsBase + "/ws/chat/?lang=" + this.lang;
    if (this.conversationId) {
      url += "&conversation=" + encodeURIComponent(this.conversationId);
    }
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = function (event) {
      if (self.ws !== ws) {
        return;
      }
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (frame && typeof frame.type === "string") {
        self.handle(frame);
      }
    };
    ws.onclose = function (event) {
      if (self.ws !== ws) {
        return;
      }
      self.ws = null;
      self.onDisconnect(event);
    };
  };

  Widget.prototype.send = function (frame) {
    if (this.ws && this.ws.readyState === 1 && this.ready) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  };

  Widget.prototype.onDisconnect = function (event) {
    this.ready = false;
    this.finishStreaming(true);
    var leadQueued = this.outbox.some(function (entry) {
      return entry.frame.type === "lead";
    });
    if (this.leadPending && this.contactForm && !leadQueued) {
      this.leadPending = false;
      this.setFormBusy(false);
      this.contactForm.querySelector(".form-error").textContent =
        this.t.dropped;
    }
    if (event.code === 4403) {
      this.refused = true;
      this.showStatus(this.refusedMessage || this.t.notAvailable, true);
      this.input.disabled = true;
      this.sendButton.disabled = true;
      return;
    }
    this.scheduleReconnect();
  };

  /** Exponential backoff with jitter, so a restarted server is not stampeded. */
  Widget.prototype.scheduleReconnect = function () {
    var self = this;
    if (this.refused || this.reconnectTimer) {
      return;
    }
    var ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * Math.pow(2, this.attempt));
    var delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    this.attempt += 1;
    this.showStatus(this.t.reconnecting, false);
    this.reconnectTimer = setTimeout(function () {
      self.reconnectTimer = null;
      self.connect();
    }, delay);
  };

  Widget.prototype.reconnectNow = function () {
    if (this.refused || this.ws || !this.reconnectTimer) {
      return;
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  };

  Widget.prototype.showStatus = function (text, fatal) {
    this.statusText.textContent = text;
    this.status.hidden = false;
    this.status.classList.toggle("fatal", !!fatal);
    this.retryButton.hidden = !!fatal;
    this.announce(text);
  };

  Widget.prototype.hideStatus = function () {
    if (!this.status.hidden) {
      this.status.hidden = true;
      this.announce(this.t.connected);
    }
  };

  Widget.prototype.announce = function (text) {
    var live = this.live;
    live.textContent = "";
    setTimeout(function () {
      live.textContent = text;
    }, 50);
  };

  // --- Frames from the server -------------------------------------------------------

  Widget.prototype.handle = function (frame) {
    switch (frame.type) {
      case "conversation":
        return this.onConversation(frame);
      case "start":
        return this.onStart(frame);
      case "token":
        return this.onToken(frame);
      case "sources":
        return this.onSources(frame);
      case "done":
        return this.onDone(frame);
      case "lead":
        return this.onLead(frame);
      case "feedback_ok":
        return this.onFeedbackOk(frame);
      case "error":
        return this.onError(frame);
      case "received":
        return this.onReceived();
      case "agent_joined":
        return this.onAgentJoined(frame);
      case "agent_message":
        return this.onAgentMessage(frame);
      case "agent_typing":
        return this.onAgentTyping(frame);
      case "agent_left":
        return this.onAgentLeft(frame);
      default:
        return undefined;
    }
  };

  Widget.prototype.onConversation = function (frame) {
    this.ready = true;
    this.attempt = 0;
    this.hideStatus();
    if (frame.bot && typeof frame.bot === "object") {
      this.applyBot(frame.bot);
    }
    if (typeof frame.id === "string" && frame.id) {
      this.conversationId = frame.id;
      this.write("conversation", frame.id);
    }
    this.agent = frame.agent && typeof frame.agent.name === "string" ? frame.agent.name : null;
    this.renderHistory(Array.isArray(frame.history) ? frame.history : []);
    if (this.agent) {
      this.addNote(fill(this.t.agentJoined, { name: this.agent }));
    }
    this.flushOutbox();
  };

  Widget.prototype.renderGreetingOnly = function () {
    this.renderHistory([]);
  };

  /** Rebuilds the list from the server's history, keeping a half-filled contact form. */
  Widget.prototype.renderHistory = function (history) {
    var self = this;
    var keepForm = this.contactForm && this.contactForm.parentNode ? this.contactForm : null;
    while (this.messages.firstChild) {
      this.messages.removeChild(this.messages.firstChild);
    }
    this.current = null;
    this.typing = null;
    var greeting = this.addMessage("assistant", { greeting: true });
    this.greetingNode = greeting.node;
    this.greetingBubble = greeting.bubble;
    this.renderGreeting();
    history.forEach(function (item) {
      if (!item || typeof item !== "object") {
        return;
      }
      if (item.role === "visitor") {
        self.addMessage("visitor", { text: item.text });
      } else if (item.role === "agent") {
        self.addAgentMessage(item.id, item.text, item.name);
      } else {
        var msg = self.addMessage("assistant", { id: item.id });
        msg.raw = String(item.text || "");
        msg.sources = Array.isArray(item.sources) ? item.sources : [];
        self.renderAssistant(msg);
        self.renderSources(msg);
        if (item.id !== undefined && item.id !== null) {
          self.addFeedback(msg, item.feedback);
        }
      }
    });
    this.outbox.forEach(function (entry) {
      if (entry.node) {
        self.messages.appendChild(entry.node);
      }
    });
    if (keepForm) {
      this.messages.appendChild(keepForm);
    }
    this.scrollDown(true);
  };

  Widget.prototype.renderGreeting = function () {
    renderMarkdown(this.bot.greeting, this.greetingBubble, { base: this.base, sources: [], strings: this.t });
    this.greetingNode.hidden = !this.bot.greeting;
  };

  Widget.prototype.addMessage = function (role, options) {
    options = options || {};
    var bubble = el("div", { className: "bubble" });
    var speaker = el("span", { className: "sr-only", text: role === "visitor" ? this.t.youSaid : fill(this.t.botSaid, { name: this.bot.name }) });
    var node = el("div", { className: "msg " + role + (options.greeting ? " greeting" : "") }, [speaker, bubble]);
    if (options.id !== undefined && options.id !== null) {
      node.setAttribute("data-message-id", String(options.id));
    }
    if (role === "visitor") {
      bubble.textContent = options.text || "";
    }
    this.messages.appendChild(node);
    return { node: node, bubble: bubble, raw: "", sources: [], id: options.id };
  };

  Widget.prototype.renderAssistant = function (msg) {
    renderMarkdown(msg.raw, msg.bubble, { base: this.base, sources: msg.sources, strings: this.t });
  };

  Widget.prototype.renderSources = function (msg) {
    var self = this;
    if (msg.sourcesEl) {
      msg.node.removeChild(msg.sourcesEl);
      msg.sourcesEl = null;
    }
    var items = (msg.sources || []).filter(function (s) {
      return s && typeof s === "object";
    });
    if (!items.length) {
      return;
    }
    var list = el("ol", { className: "sources", "aria-label": this.t.sources });
    items.forEach(function (source) {
      var label = "[" + source.n + "] " + (source.title || self.t.source);
      var href = safeUrl(source.url, self.base);
      var li = el("li");
      if (href) {
        li.appendChild(el("a", {
          href: href,
          target: "_blank",
          rel: "noopener noreferrer",
          title: source.snippet ? String(source.snippet).slice(0, 300) : null,
          text: label
        }));
      } else {
        li.textContent = label;
      }
      list.appendChild(li);
    });
    var wrapper = el("div", { className: "sources-block" }, [el("p", { className: "sources-label", text: this.t.sources }), list]);
    msg.node.insertBefore(wrapper, msg.feedbackEl || null);
    msg.sourcesEl = wrapper;
  };

  Widget.prototype.addFeedback = function (msg, rating) {
    var self = this;
    var t = this.t;
    var up = el("button", { type: "button", "aria-label": t.helpful, title: t.helpful, "aria-pressed": rating === 1 ? "true" : "false" }, [icon("up")]);
    var down = el("button", { type: "button", "aria-label": t.notHelpful, title: t.notHelpful, "aria-pressed": rating === -1 ? "true" : "false" }, [icon("down")]);
    var group = el("div", { className: "feedback", role: "group", "aria-label": t.wasHelpful }, [up, down]);
    function rate(value) {
      up.setAttribute("aria-pressed", value === 1 ? "true" : "false");
      down.setAttribute("aria-pressed", value === -1 ? "true" : "false");
      self.queue({ type: "feedback", message_id: String(msg.id), rating: value });
    }
    up.addEventListener("click", function () {
      rate(1);
    });
    down.addEventListener("click", function () {
      rate(-1);
    });
    msg.node.appendChild(group);
    msg.feedbackEl = group;
  };

  Widget.prototype.showTyping = function () {
    if (this.typing) {
      return;
    }
    this.typing = el("div", { className: "typing", role: "status", "aria-label": fill(this.t.typing, { name: this.bot.name }) }, [el("span"), el("span"), el("span")]);
    this.messages.appendChild(this.typing);
    this.scrollDown();
  };

  Widget.prototype.hideTyping = function () {
    if (this.typing && this.typing.parentNode) {
      this.typing.parentNode.removeChild(this.typing);
    }
    this.typing = null;
  };

  Widget.prototype.onStart = function (frame) {
    this.finishStreaming(false);
    var msg = this.addMessage("assistant", { id: frame.message_id });
    msg.node.setAttribute("aria-busy", "true");
    this.current = msg;
    if (this.typing) {
      this.messages.appendChild(this.typing);
    } else {
      this.showTyping();
    }
    this.busy = true;
  };

  Widget.prototype.onToken = function (frame) {
    if (!this.current) {
      this.onStart({ message_id: null });
    }
    if (typeof frame.text !== "string") {
      return;
    }
    this.hideTyping();
    this.current.raw += frame.text;
    this.renderAssistant(this.current);
    this.scrollDown();
  };

  Widget.prototype.onSources = function (frame) {
    if (!this.current) {
      return;
    }
    this.current.sources = Array.isArray(frame.items) ? frame.items : [];
    this.renderAssistant(this.current);
    this.renderSources(this.current);
    this.scrollDown();
  };

  Widget.prototype.onDone = function (frame) {
    var msg = this.current;
    this.hideTyping();
    if (msg) {
      if (frame.message_id !== undefined && frame.message_id !== null) {
        msg.id = frame.message_id;
        msg.node.setAttribute("data-message-id", String(frame.message_id));
      }
      msg.node.removeAttribute("aria-busy");
      msg.node.setAttribute("data-answered", frame.answered === false ? "false" : "true");
      if (msg.id !== undefined && msg.id !== null) {
        this.addFeedback(msg, null);
      }
      var count = msg.sources.length;
      var counted = count === 1 ? this.t.oneSource : fill(this.t.manySources, { n: count });
      this.announce(msg.bubble.textContent + (count ? " (" + counted + ")" : ""));
    }
    this.current = null;
    this.busy = false;
    if (frame.offer_contact === true || frame.answered === false) {
      this.offerContact(false, msg ? msg.id : null);
    }
    this.scrollDown();
    this.flushOutbox();
  };

  Widget.prototype.finishStreaming = function (interrupted) {
    this.hideTyping();
    if (this.current) {
      this.current.node.removeAttribute("aria-busy");
      if (interrupted) {
        this.current.node.setAttribute("data-interrupted", "true");
      }
    }
    this.current = null;
    this.busy = false;
  };

  Widget.prototype.onError = function (frame) {
    var message = typeof frame.message === "string" && frame.message ? frame.message : this.t.error;
    if (frame.code === "origin_not_allowed") {
      this.refusedMessage = this.t.notAvailable;
      if (window.console) {
        window.console.warn("[chat widget] " + message);
      }
      return;
    }
    if (frame.code === "rate_limited" && frame.retry_after) {
      message += " " + fill(this.t.retryIn, { s: Math.ceil(Number(frame.retry_after)) });
    }
    if (this.leadPending && this.contactForm && !this.current) {
      this.leadPending = false;
      this.setFormBusy(false);
      this.contactForm.querySelector(".form-error").textContent = message;
      this.announce(message);
      return;
    }
    this.finishStreaming(false);
    var notice = el("div", { className: "notice", role: "alert", "data-code": String(frame.code || "") , text: message });
    this.messages.appendChild(notice);
    this.scrollDown();
    this.flushOutbox();
  };

  Widget.prototype.onFeedbackOk = function () {
    this.announce(this.t.feedbackThanks);
  };

  /**
   * The confirmation takes the place of the form it answers; details given in
   * a chat message are confirmed after that message's answer, and a form left
   * open above is no longer needed.
   */
  Widget.prototype.onLead = function (frame) {
    var fromForm = this.leadPending;
    this.leadPending = false;
    var form = this.contactForm;
    var thanks = el("div", {
      className: "thanks",
      role: "status",
      "data-status": String(frame.status || ""),
      text: frame.status === "updated" ? this.t.leadUpdated : this.t.leadCaptured
    });
    if (fromForm && form && form.parentNode) {
      form.parentNode.replaceChild(thanks, form);
    } else {
      if (form && form.parentNode) {
        form.parentNode.removeChild(form);
      }
      this.messages.appendChild(thanks);
    }
    this.contactForm = null;
    this.scrollDown();
    this.input.focus();
  };

  // --- Visitor actions -------------------------------------------------------------------

  /* Live handoff: a member of staff writes in the conversation (docs/protocol.md#live-handoff). */

  Widget.prototype.addNote = function (text) {
    var note = el("p", { className: "note", role: "status", text: text });
    this.messages.appendChild(note);
    this.scrollDown();
    return note;
  };

  Widget.prototype.addAgentMessage = function (id, text, name) {
    if (id && this.messages.querySelector('.msg.agent[data-message-id="' + String(id).replace(/["\\]/g, "") + '"]')) {
      return null; // already shown (a reconnect's history and a live frame)
    }
    var label = String(name || "");
    var bubble = el("div", { className: "bubble", text: String(text || "") });
    var speaker = el("span", { className: "sr-only", text: fill(this.t.agentSaid, { name: label }) });
    var who = el("div", { className: "who", "aria-hidden": "true", text: label });
    var node = el("div", { className: "msg agent" }, [speaker, who, bubble]);
    if (id) {
      node.setAttribute("data-message-id", String(id));
    }
    this.messages.appendChild(node);
    return node;
  };

  Widget.prototype.onReceived = function () {
    // Stored and relayed to the staff member holding the conversation: no answer comes.
    this.hideTyping();
    this.busy = false;
    this.flushOutbox();
  };

  Widget.prototype.onAgentJoined = function (frame) {
    var name = String(frame.name || "");
    if (this.agent === name) {
      return;
    }
    this.agent = name;
    this.addNote(fill(this.t.agentJoined, { name: name }));
    this.announce(fill(this.t.agentJoined, { name: name }));
  };

  Widget.prototype.onAgentMessage = function (frame) {
    this.hideTyping();
    clearTimeout(this.agentTypingTimer);
    var node = this.addAgentMessage(frame.id, frame.text, frame.name);
    if (node) {
      this.announce(fill(this.t.agentSaid, { name: String(frame.name || "") }) + " " + String(frame.text || ""));
      this.scrollDown();
    }
  };

  Widget.prototype.onAgentTyping = function (frame) {
    var self = this;
    if (this.busy) {
      return;
    }
    this.hideTyping();
    this.typing = el("div", { className: "typing", role: "status", "aria-label": fill(this.t.typing, { name: String(frame.name || "") }) }, [el("span"), el("span"), el("span")]);
    this.messages.appendChild(this.typing);
    this.scrollDown();
    clearTimeout(this.agentTypingTimer);
    // Staff send `agent_typing` every few seconds while they type; without one, the dots go.
    this.agentTypingTimer = setTimeout(function () {
      if (!self.busy) {
        self.hideTyping();
      }
    }, 6000);
  };

  Widget.prototype.onAgentLeft = function (frame) {
    this.hideTyping();
    this.agent = null;
    this.addNote(fill(this.t.agentLeft, { name: String(frame.name || "") }));
  };

  Widget.prototype.submitMessage = function () {
    var text = this.input.value.trim();
    if (!text || this.refused) {
      return;
    }
    this.input.value = "";
    this.input.style.height = "";
    var msg = this.addMessage("visitor", { text: text });
    this.scrollDown(true);
    this.queue({ type: "message", text: text }, msg.node);
  };

  /** Sends now when connected and idle, else keeps the frame until then: nothing typed is lost. */
  Widget.prototype.queue = function (frame, node) {
    if (frame.type === "message" && (this.busy || !this.ready)) {
      this.outbox.push({ frame: frame, node: node });
      if (node) {
        node.classList.add("pending");
      }
      if (!this.ws && !this.refused) {
        this.connect();
      }
      return;
    }
    if (!this.send(frame)) {
      this.outbox.push({ frame: frame, node: node });
      if (!this.ws && !this.refused) {
        this.connect();
      }
      return;
    }
    if (frame.type === "message") {
      this.busy = true;
      this.showTyping();
    }
  };

  Widget.prototype.flushOutbox = function () {
    while (this.outbox.length && this.ready && !this.busy) {
      var entry = this.outbox[0];
      if (!this.send(entry.frame)) {
        return;
      }
      this.outbox.shift();
      if (entry.node) {
        entry.node.classList.remove("pending");
      }
      if (entry.frame.type === "message") {
        this.busy = true;
        this.showTyping();
      }
    }
  };

  Widget.prototype.offerContact = function (userAsked, messageId) {
    if (this.contactForm && this.contactForm.parentNode) {
      if (userAsked) {
        this.contactForm.querySelector("input").focus();
      }
      return;
    }
    if (!userAsked && messageId !== undefined && messageId !== null && this.contactOfferedFor === messageId) {
      return;
    }
    this.contactOfferedFor = messageId;
    var form = this.buildContactForm();
    this.messages.appendChild(form);
    this.scrollDown();
    if (userAsked) {
      form.querySelector("input").focus();
    } else {
      this.announce(this.t.offerAnnounce);
    }
  };

  Widget.prototype.buildContactForm = function () {
    var self = this;
    var uid = String(Date.now());
    function field(label, name, type, autocomplete, maxlength) {
      var input = el("input", { type: type, name: name, autocomplete: autocomplete, maxlength: String(maxlength), id: "contact-" + name + "-" + uid });
      return { input: input, label: el("label", { className: "field", for: input.id }, [el("span", { text: label }), input]) };
    }
    var t = this.t;
    var name = field(t.fieldName, "name", "text", "name", 200);
    var email = field(t.fieldEmail, "email", "email", "email", 254);
    var phone = field(t.fieldPhone, "phone", "tel", "tel", 32);
    var consent = el("input", { type: "checkbox", name: "consent", id: "contact-consent-" + uid });
    var consentText = el("span", { text: this.consentText });
    var error = el("p", { className: "form-error", role: "alert" });
    var submit = el("button", { type: "submit", className: "btn primary", text: t.sendDetails });
    var cancel = el("button", { type: "button", className: "btn secondary", text: t.notNow });
    var title = el("p", { className: "contact-title", id: "contact-title-" + uid, text: t.formTitle });
    var form = el("form", { className: "contact", novalidate: true, "aria-labelledby": title.id }, [
      title,
      name.label,
      email.label,
      phone.label,
      el("label", { className: "consent", for: consent.id }, [consent, consentText]),
      error,
      el("div", { className: "actions" }, [submit, cancel])
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      [email.input, phone.input].forEach(function (input) {
        input.removeAttribute("aria-invalid");
      });
      consent.removeAttribute("aria-invalid");
      var values = {
        name: name.input.value.trim(),
        email: email.input.value.trim(),
        phone: phone.input.value.trim()
      };
      var problem = null;
      var culprit = null;
      if (!values.email && !values.phone) {
        problem = t.needContact;
        culprit = email.input;
      } else if (values.email && !email.input.checkValidity()) {
        problem = t.checkEmail;
        culprit = email.input;
      } else if (!consent.checked) {
        problem = t.needConsent;
        culprit = consent;
      }
      if (problem) {
        error.textContent = problem;
        culprit.setAttribute("aria-invalid", "true");
        culprit.focus();
        return;
      }
      error.textContent = "";
      self.leadPending = true;
      self.setFormBusy(true);
      self.queue({
        type: "lead",
        name: values.name,
        email: values.email,
        phone: values.phone,
        consent: true,
        consent_text: self.consentText
      });
    });
    cancel.addEventListener("click", function () {
      if (form.parentNode) {
        form.parentNode.removeChild(form);
      }
      self.contactForm = null;
      self.leadPending = false;
      self.input.focus();
    });
    this.contactForm = form;
    return form;
  };

  Widget.prototype.setFormBusy = function (busy) {
    if (!this.contactForm) {
      return;
    }
    var submit = this.contactForm.querySelector("button[type=submit]");
    submit.disabled = busy;
    submit.textContent = busy ? this.t.sending : this.t.sendDetails;
  };

  /** Follows new text unless the visitor scrolled up to read; `force` for their own messages. */
  Widget.prototype.scrollDown = function (force) {
    var list = this.messages;
    if (force || this.followTail !== false) {
      list.scrollTop = list.scrollHeight;
    }
  };

  function start() {
    if (document.querySelector(HOST_TAG)) {
      return;
    }
    new Widget(SCRIPT).mount();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
