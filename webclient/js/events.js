// Listener calls for state.rs: each in a microtask, so a listener runs after
// the client's state is released and may call back into the client.

export function emitLater (listener, detail) {
  queueMicrotask(() => {
    try {
      listener.call(null, detail)
    } catch (error) {
      console.error('listener threw:', error)
    }
  })
}
