/// The gateway's API, served at GET /openapi.yaml (a test checks that every route is in it).
enum OpenAPIDocument {
    static let yaml = """
openapi: 3.0.3
info:
  title: Kumo gateway
  version: "1"
  description: |
    Invoke, deploy and inspect Kumo functions. /function and /async-function are public;
    /system routes need "Authorization: Bearer TOKEN" (kumo serve writes the admin token to
    DATA/admin-token on first start; POST /system/tenants makes others). Errors are JSON
    {"error": "..."}; 429 and 503 carry Retry-After. A path asked with a method it does not
    take gets 405 with Allow. Every route that names a function answers 400 for a name that
    breaks the name rule, and every /system route 401 without a valid token.
paths:
  /function/{name}:
    post:
      summary: Invoke a function and wait for its output
      description: |
        The body is the function's stdin (mode run) or its request (mode persistent); the
        response body is its stdout or its kumo_respond() body. The method, QUERY_STRING,
        QUERY_<key>, CONTENT_LENGTH, CONTENT_TYPE and HTTP_X_* / HTTP_ACCEPT /
        HTTP_ACCEPT_LANGUAGE / HTTP_USER_AGENT reach it as environment variables.
      parameters: [{ $ref: "#/components/parameters/name" }]
      requestBody: { content: { application/octet-stream: { schema: { type: string, format: binary } } } }
      responses:
        "200": { $ref: "#/components/responses/output" }
        "400": { $ref: "#/components/responses/error" }
        "500": { description: "The function failed: X-Kumo-Status has its exit status, X-Kumo-Detail why", headers: { X-Kumo-Status: { schema: { type: integer } }, X-Kumo-Detail: { schema: { type: string } } } }
        "404": { $ref: "#/components/responses/error" }
        "413": { $ref: "#/components/responses/error" }
        "429": { $ref: "#/components/responses/retry" }
        "502": { description: "The image did not boot or the instance process died (a forbidden system call kills it)" }
        "503": { description: "No free FPGA, no guest memory free on the node or in the tenant's cap, or too many connections from this client", headers: { Retry-After: { schema: { type: integer } } } }
        "504": { description: "The function ran past its timeout and was killed" }
  /async-function/{name}:
    post:
      summary: Accept an invocation to run later
      parameters:
        - { $ref: "#/components/parameters/name" }
        - { name: X-Callback-Url, in: header, required: false, schema: { type: string, format: uri }, description: "POSTed the result when done (X-Kumo-Call-Id, X-Kumo-Http-Status, X-Kumo-Status headers); http(s) to public addresses only (kumo serve --callback-allow adds ranges), no user:password, redirects not followed; the outcome is in the function's logs" }
      requestBody: { content: { application/octet-stream: { schema: { type: string, format: binary } } } }
      responses:
        "202": { description: "Accepted and stored; survives a restart of kumo serve", content: { application/json: { schema: { $ref: "#/components/schemas/Accepted" } } } }
        "400": { description: "X-Callback-Url is not an http(s) URL or carries user:password" }
        "404": { $ref: "#/components/responses/error" }
        "413": { $ref: "#/components/responses/error" }
        "429": { description: "The function's tenant has --async-pending calls pending", headers: { Retry-After: { schema: { type: integer } } } }
  /system/calls/{id}:
    get:
      summary: The state of an async call
      parameters: [{ $ref: "#/components/parameters/id" }]
      responses:
        "200": { description: "state queued, running or done, and the result's status", content: { application/json: { schema: { $ref: "#/components/schemas/Call" } } } }
        "400": { $ref: "#/components/responses/error" }
        "404": { $ref: "#/components/responses/error" }
  /system/calls/{id}/result:
    get:
      summary: The result of an async call, as the sync call would have answered
      parameters: [{ $ref: "#/components/parameters/id" }]
      responses:
        "200": { $ref: "#/components/responses/output" }
        "202": { description: "Not done yet" }
        "400": { $ref: "#/components/responses/error" }
        "404": { $ref: "#/components/responses/error" }
  /system/functions:
    get:
      summary: The functions this token may see (all, for the admin)
      security: [{ bearer: [] }]
      responses:
        "200": { description: "Functions", content: { application/json: { schema: { type: array, items: { $ref: "#/components/schemas/Function" } } } } }
        "401": { $ref: "#/components/responses/error" }
  /system/functions/{name}:
    get:
      summary: One function, with its live instances
      security: [{ bearer: [] }]
      parameters: [{ $ref: "#/components/parameters/name" }]
      responses:
        "200": { description: "The function", content: { application/json: { schema: { $ref: "#/components/schemas/Function" } } } }
        "400": { $ref: "#/components/responses/error" }
        "401": { $ref: "#/components/responses/error" }
        "404": { $ref: "#/components/responses/error" }
    put:
      summary: Deploy (create or replace) a function from an image built by kumo build
      security: [{ bearer: [] }]
      parameters:
        - { $ref: "#/components/parameters/name" }
        - { name: max_instances, in: query, schema: { type: integer, minimum: 1, maximum: 256, default: 4 } }
        - { name: queue, in: query, schema: { type: integer, minimum: 0, maximum: 10000, default: 32 }, description: "requests that may wait for a busy instance; past it 429" }
        - { name: min_instances, in: query, schema: { type: integer, minimum: 0, maximum: 256, default: 0 }, description: "instances kept warm however idle; at most max_instances" }
        - { name: concurrency, in: query, schema: { type: integer, minimum: 1, maximum: 1000, default: 1 }, description: "requests in flight per instance the autoscaler aims at" }
        - { name: keep_alive, in: query, schema: { type: string, pattern: "^(auto|[0-9.]+(ms|s|m|h)?)$", default: auto }, description: "auto (learned from the function's idle times) or how long an idle instance stays warm, e.g. 0, 30s, 10m (at most 24h)" }
      requestBody: { required: true, content: { application/octet-stream: { schema: { type: string, format: binary } } } }
      responses:
        "201": { description: "Created", content: { application/json: { schema: { $ref: "#/components/schemas/Function" } } } }
        "200": { description: "Replaced", content: { application/json: { schema: { $ref: "#/components/schemas/Function" } } } }
        "400": { $ref: "#/components/responses/error" }
        "401": { $ref: "#/components/responses/error" }
        "403": { $ref: "#/components/responses/error" }
        "413": { $ref: "#/components/responses/error" }
    delete:
      summary: Remove a function; its instances stop
      security: [{ bearer: [] }]
      parameters: [{ $ref: "#/components/parameters/name" }]
      responses:
        "200": { description: "Removed" }
        "400": { $ref: "#/components/responses/error" }
        "401": { $ref: "#/components/responses/error" }
        "404": { $ref: "#/components/responses/error" }
  /system/functions/{name}/logs:
    get:
      summary: The function's log lines after a cursor (poll with next to follow)
      security: [{ bearer: [] }]
      parameters:
        - { $ref: "#/components/parameters/name" }
        - { name: after, in: query, schema: { type: integer, default: 0, minimum: 0 } }
        - { name: limit, in: query, schema: { type: integer, default: 500, minimum: 1, maximum: 5000 } }
      responses:
        "200": { description: "{lines: [{id, at, instance, stream, text}], next}" }
        "400": { $ref: "#/components/responses/error" }
        "401": { $ref: "#/components/responses/error" }
        "404": { $ref: "#/components/responses/error" }
  /system/accelerators:
    get:
      summary: The FPGAs (kind emulated or pci, a PCI card's address, id, IOMMU group and driver; state, tenant, bitstream, since when) and recent grants
      security: [{ bearer: [] }]
      responses:
        "200": { description: "{cards: [{name, kind, pci?, status, ...}], grants: [...]}" }
        "401": { $ref: "#/components/responses/error" }
  /system/tenants:
    get:
      summary: Tenants (admin only)
      security: [{ bearer: [] }]
      responses:
        "200": { description: "[{name, admin, created}]" }
        "401": { $ref: "#/components/responses/error" }
        "403": { $ref: "#/components/responses/error" }
    post:
      summary: Create a tenant (admin only); the answer holds its token, shown once
      security: [{ bearer: [] }]
      requestBody: { required: true, content: { application/json: { schema: { type: object, properties: { name: { type: string, pattern: "^[a-z][a-z0-9-]{0,62}$" }, memory: { type: string, nullable: true, pattern: "^[1-9][0-9]{0,5}[MG]$", description: "guest memory its instances may hold at once, e.g. 2G" } }, required: [name] } } } }
      responses:
        "201": { description: "{name, token}" }
        "400": { $ref: "#/components/responses/error" }
        "401": { $ref: "#/components/responses/error" }
        "403": { $ref: "#/components/responses/error" }
        "409": { $ref: "#/components/responses/error" }
  /healthz:
    get:
      summary: Liveness, with counts of functions, instances and free FPGAs
      responses:
        "200": { description: "{status: ok, ...}" }
  /metrics:
    get:
      summary: Prometheus metrics (invocations by function and status, latency histograms, cold starts, instances, FPGA allocations and reconfigurations); the admin sees every series, a tenant the node-wide ones and its own functions'
      security: [{ bearer: [] }]
      responses:
        "200": { description: "text/plain; version=0.0.4" }
        "401": { $ref: "#/components/responses/error" }
  /openapi.yaml:
    get:
      summary: This document
      responses:
        "200": { description: "application/yaml" }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
  parameters:
    name: { name: name, in: path, required: true, schema: { type: string, pattern: "^[a-z][a-z0-9-]{0,62}$" } }
    id: { name: id, in: path, required: true, schema: { type: string, pattern: "^[0-9a-fA-F-]{1,64}$" } }
  responses:
    output: { description: "The function's output", content: { application/octet-stream: { schema: { type: string, format: binary } } } }
    error: { description: "Refused", content: { application/json: { schema: { $ref: "#/components/schemas/Error" } } } }
    retry: { description: "No capacity now; retry after Retry-After seconds", headers: { Retry-After: { schema: { type: integer } } }, content: { application/json: { schema: { $ref: "#/components/schemas/Error" } } } }
  schemas:
    Error: { type: object, properties: { error: { type: string } } }
    Accepted: { type: object, properties: { id: { type: string }, function: { type: string }, state: { type: string }, statusURL: { type: string }, resultURL: { type: string } } }
    Call: { type: object, properties: { id: { type: string }, function: { type: string }, state: { type: string, enum: [queued, running, done] }, httpStatus: { type: integer }, code: { type: integer }, detail: { type: string }, responseBytes: { type: integer }, created: { type: string, format: date-time }, finished: { type: string, format: date-time } } }
    Function: { type: object, properties: { name: { type: string }, tenant: { type: string }, image: { type: string, description: "SHA-256 of the image" }, imageBytes: { type: integer }, mode: { type: string, enum: [run, persistent] }, accelerator: { type: string, enum: [none, fpga] }, memory: { type: integer }, timeoutSeconds: { type: number }, limits: { type: object }, created: { type: string, format: date-time }, updated: { type: string, format: date-time }, instances: { type: array, items: { type: object } }, scaling: { type: array, items: { type: object }, description: "per node: desired instances and why, observed concurrency, panic, learned keep-alive" } } }
"""
}
