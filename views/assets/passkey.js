/* Passkey pages: runs the WebAuthn ceremony of a form marked data-passkey ("register" or "authenticate") with
   @simplewebauthn/browser, puts the JSON response in the form's `response` field and submits it. No inline script:
   both files are served from this origin (CSP script-src 'self'). */
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  function run(form) {
    var options = JSON.parse(form.getAttribute('data-options'));
    var error = form.querySelector('[data-passkey-error]');
    var ceremony = form.getAttribute('data-passkey') === 'register'
      ? lib.startRegistration({ optionsJSON: options })
      : lib.startAuthentication({ optionsJSON: options });
    ceremony.then(function (result) {
      form.querySelector('input[name="response"]').value = JSON.stringify(result);
      form.submit();
    }, function (err) {
      if (error) { error.textContent = 'The passkey did not work (' + (err && err.name ? err.name : 'error') + '). Try again.'; error.hidden = false; }
    });
  }
  // Autofill (conditional mediation): the identifier field lists passkeys; choosing one submits the hidden form.
  // Silent when the browser lacks it or the person signs in another way (the request is then aborted).
  document.querySelectorAll('form[data-passkey="autofill"]').forEach(function (form) {
    if (!lib || !lib.browserSupportsWebAuthnAutofill) return;
    lib.browserSupportsWebAuthnAutofill().then(function (supported) {
      if (!supported) return;
      return lib.startAuthentication({ optionsJSON: JSON.parse(form.getAttribute('data-options')), useBrowserAutofill: true }).then(function (result) {
        form.querySelector('input[name="response"]').value = JSON.stringify(result);
        form.submit();
      });
    }).catch(function () {});
  });
  document.querySelectorAll('form[data-passkey]:not([data-passkey="autofill"])').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (form.querySelector('input[name="response"]').value) return;
      event.preventDefault();
      if (!lib || !window.PublicKeyCredential) return;
      run(form);
    });
  });
})();
