// The console's one script. Every page works without it; it only adds what a page cannot do
// by itself:
// - the upload screens send each chosen file on its own request, with a progress bar, and show
//   each file's outcome where the form is (the server answers JSON when asked);
// - a table of richieste with rows still being processed reloads itself every few seconds,
//   only while the tab is visible, and stops when no row is in progress (keeping the rows
//   selected for a bulk action).
(function () {
  'use strict';

  var INTERVALLO_MS = 2000;
  var PARALLELI = 2;

  // --- Tables that update themselves ----------------------------------------------------------

  var timer = null;

  function tabella() {
    return document.getElementById('elaborazioni');
  }

  function inCorso() {
    var t = tabella();
    return t !== null && t.querySelector('[data-in-corso]') !== null;
  }

  // What has the keyboard focus inside the table, so that it can be found again in the new one.
  function fuoco(t) {
    var el = document.activeElement;
    if (!el || !t.contains(el)) return null;
    var form = el.closest('form');
    if (form) return 'form[action="' + form.getAttribute('action') + '"] button';
    if (el.getAttribute('href')) return 'a[href="' + el.getAttribute('href') + '"]';
    return null;
  }

  function aggiorna() {
    timer = null;
    var t = tabella();
    if (t === null || document.hidden) return;
    fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var vecchia = tabella();
        if (html && vecchia) {
          var nuova = new DOMParser().parseFromString(html, 'text/html').getElementById('elaborazioni');
          if (nuova) {
            var dove = fuoco(vecchia);
            // The rows selected for a bulk action stay selected in the new table.
            Array.prototype.forEach.call(vecchia.querySelectorAll('input[type=checkbox]:checked'), function (c) {
              var stessa = nuova.querySelector('input[type=checkbox][value="' + c.value + '"]');
              if (stessa) stessa.checked = true;
            });
            vecchia.replaceWith(nuova);
            if (dove) {
              var el = nuova.querySelector(dove);
              if (el) el.focus();
            }
          }
        }
        pianifica();
      })
      .catch(pianifica);
  }

  function pianifica() {
    if (timer === null && !document.hidden && inCorso()) {
      timer = setTimeout(aggiorna, INTERVALLO_MS);
    }
  }

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    } else {
      pianifica();
    }
  });

  // --- Uploads ----------------------------------------------------------------------------------

  function nuovaChiave() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  function caricamento(modulo) {
    var input = modulo.querySelector('input[type=file]');
    var bottone = modulo.querySelector('button[type=submit]');
    var zona = document.getElementById('zona');
    var elenco = document.getElementById('esiti');

    // A new choice of files is a new form: a new key. The button is off while a form is being
    // sent, so a double click sends nothing twice; a file sent again after a lost answer is
    // found by the server as a duplicate of the richiesta it already made.
    input.addEventListener('change', function () {
      modulo.elements.chiave.value = nuovaChiave();
    });

    ['dragenter', 'dragover'].forEach(function (tipo) {
      zona.addEventListener(tipo, function (e) {
        e.preventDefault();
        zona.classList.add('sopra');
      });
    });
    ['dragleave', 'drop'].forEach(function (tipo) {
      zona.addEventListener(tipo, function () { zona.classList.remove('sopra'); });
    });
    zona.addEventListener('drop', function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        input.dispatchEvent(new Event('change'));
      }
    });

    modulo.addEventListener('submit', function (e) {
      e.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      if (!files.length || bottone.disabled) return;
      bottone.disabled = true;
      elenco.textContent = '';
      var chiave = modulo.elements.chiave.value;
      var coda = files.map(function (file, indice) {
        return { file: file, indice: indice, voce: voce(file) };
      });
      var attivi = 0;
      function prossimo() {
        if (!coda.length) {
          if (attivi === 0) {
            // Done: the next choice of files starts afresh (and gets a new key).
            input.value = '';
            bottone.disabled = false;
            aggiorna();
          }
          return;
        }
        var lavoro = coda.shift();
        attivi++;
        invia(lavoro, chiave, function () {
          attivi--;
          prossimo();
        });
      }
      for (var i = 0; i < PARALLELI; i++) prossimo();
    });

    function voce(file) {
      var li = document.createElement('li');
      var nome = document.createElement('strong');
      nome.textContent = file.name;
      var barra = document.createElement('progress');
      barra.max = 100;
      barra.value = 0;
      barra.setAttribute('aria-label', 'Avanzamento di ' + file.name);
      var testo = document.createElement('span');
      testo.className = 'messaggio';
      testo.textContent = 'in attesa';
      li.append(nome, ': ', barra, ' ', testo);
      elenco.append(li);
      return { li: li, barra: barra, testo: testo };
    }

    function esito(v, e) {
      v.barra.remove();
      v.li.className = e.ok ? 'ok' : 'errore';
      v.testo.textContent = e.messaggio;
      if (e.link) {
        var a = document.createElement('a');
        a.href = e.link;
        a.textContent = 'Vedi la richiesta';
        v.li.append(' ', a);
      }
    }

    function invia(lavoro, chiave, fatto) {
      var dati = new FormData();
      dati.append('csrf', modulo.elements.csrf.value);
      dati.append('chiave', chiave);
      dati.append('prevalidazione', modulo.elements.prevalidazione.value);
      dati.append('indice', String(lavoro.indice));
      dati.append('file', lavoro.file, lavoro.file.name);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', modulo.getAttribute('action'));
      xhr.setRequestHeader('Accept', 'application/json');
      lavoro.voce.testo.textContent = 'invio in corso';
      xhr.upload.addEventListener('progress', function (p) {
        if (p.lengthComputable) lavoro.voce.barra.value = Math.round((p.loaded / p.total) * 100);
      });
      xhr.addEventListener('load', function () {
        var risposta = null;
        try { risposta = JSON.parse(xhr.responseText); } catch (_) { risposta = null; }
        if (risposta && risposta.esiti && risposta.esiti.length) {
          esito(lavoro.voce, risposta.esiti[0]);
        } else {
          var messaggio = (risposta && risposta.message) || ('errore del server (' + xhr.status + ')');
          esito(lavoro.voce, { ok: false, messaggio: messaggio.charAt(0).toUpperCase() + messaggio.slice(1) });
        }
        fatto();
      });
      xhr.addEventListener('error', function () {
        esito(lavoro.voce, {
          ok: false,
          messaggio: 'Connessione interrotta: scegliere di nuovo il file e premere "Carica XML" (un file già arrivato non viene caricato due volte).'
        });
        fatto();
      });
      xhr.send(dati);
    }
  }

  var modulo = document.getElementById('caricamento');
  if (modulo) caricamento(modulo);
  pianifica();
})();
