// Import this module FIRST (before anything from libp2p): current js-libp2p
// expects a few things that only Node.js 22+ (and current browsers) have.
// ES modules evaluate their imports in order, so a first `import
// './lib/polyfill.mjs'` runs before libp2p's modules are evaluated.

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}
