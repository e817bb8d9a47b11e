// Starts the key worker (key-worker.js, beside the package's main module)
// and runs one job in it: resolves with its result, calls onProgress with
// each stage it reports, rejects with an Error carrying the worker's code.
let worker = null
let nextId = 0
const jobs = new Map()

function keyWorker () {
  if (worker === null) {
    worker = new Worker(new URL('../../../key-worker.js', import.meta.url), { type: 'module' })
    worker.onmessage = (event) => {
      const { id, progress, result, error } = event.data
      const job = jobs.get(id)
      if (!job) return
      if (progress !== undefined) {
        if (job.onProgress) job.onProgress(progress)
        return
      }
      jobs.delete(id)
      if (error) {
        const failure = new Error(error.message)
        failure.code = error.code
        job.reject(failure)
      } else {
        job.resolve(result)
      }
    }
    worker.onerror = (event) => {
      for (const job of jobs.values()) {
        const failure = new Error(`key worker failed: ${event.message}`)
        failure.code = 'INTERNAL'
        job.reject(failure)
      }
      jobs.clear()
      worker = null
    }
  }
  return worker
}

export function runKeyJob (message, onProgress) {
  return new Promise((resolve, reject) => {
    const id = nextId++
    jobs.set(id, { resolve, reject, onProgress })
    keyWorker().postMessage({ ...message, id })
  })
}
