// Loaded as a classic, blocking script in each layout's <head>, so it runs before any form exists.
// A form with neither action nor method exists only for its page script, which sends it itself: the
// browser must never submit it natively (before that script ran, Enter in a field would reload the
// page with the fields in its address).
document.addEventListener(
  'submit',
  (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && !form.hasAttribute('action') && !form.hasAttribute('method')) event.preventDefault();
  },
  true,
);
