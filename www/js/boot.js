// Loads the page's module (named by <body data-page>), or says why it
// cannot: most often the light client package (www/pkg) is not built.
const page = document.body.dataset.page;

import(`./${page}-page.js`).catch((error) => {
  console.error(error);
  let box = document.getElementById('alert');
  if (!box) {
    box = document.createElement('p');
    box.className = 'msg msg-error';
    box.setAttribute('role', 'alert');
    document.querySelector('main')?.prepend(box);
  }
  box.hidden = false;
  box.textContent = `This page could not start: ${error.message}. If the node was built from source, run \`cargo xtask build-web\` to build the light client (www/pkg) and reload.`;
  const state = document.getElementById('net-state');
  if (state) {
    state.textContent = 'Not started';
    state.dataset.state = 'error';
  }
});
