/* Events, user events, callbacks, profiling, and the synchronisation points:
 * clFlush, clFinish, clWaitForEvents, markers and barriers. Callbacks run
 * on the program's own thread when the library learns an event's status
 * (the guest has one thread; OpenCL lets callbacks run on any). */
#include <sched.h>
#include <stdlib.h>
#include "shim.h"

static cl_event watched_head;   /* events with callbacks not yet called */

cl_int shim_check_waits(cl_command_queue q, cl_uint n, const cl_event *list)
{
    if ((n == 0) != (list == NULL)) return CL_INVALID_EVENT_WAIT_LIST;
    if (n > KUMO_FPGA_WAIT_MAX) return CL_INVALID_EVENT_WAIT_LIST;
    for (cl_uint i = 0; i < n; i++) {
        if (!shim_valid(list[i], MAGIC_EVENT)) return CL_INVALID_EVENT_WAIT_LIST;
        if (q && list[i]->context != q->context) return CL_INVALID_CONTEXT;
    }
    return CL_SUCCESS;
}

cl_event shim_new_event(cl_command_queue q, cl_command_type type, uint32_t *id_out)
{
    cl_event e = shim_new(sizeof *e, MAGIC_EVENT);
    if (!e) return NULL;
    e->h.id = shim_next_id(ID_EVENT);
    e->queue = q;
    e->context = q ? q->context : NULL;
    e->type = type;
    e->status = CL_QUEUED;
    if (q) clRetainCommandQueue(q);
    *id_out = e->h.id;
    return e;
}

/* Appends a queued command after the checks every enqueue shares. */
cl_int shim_queued(uint16_t op, cl_command_queue q, cl_command_type type, cl_bool blocking, size_t payload, size_t extra,
                   cl_uint nwait, const cl_event *waits, cl_event *event, void **payload_out, struct kumo_fpga_cmd **cmd_out)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    cl_int st = shim_check_waits(q, nwait, waits);
    if (st != CL_SUCCESS) return st;
    uint32_t id = 0;
    cl_event e = NULL;
    if (event) {
        e = shim_new_event(q, type, &id);
        if (!e) return CL_OUT_OF_HOST_MEMORY;
    }
    struct kumo_fpga_cmd *cmd;
    void *p = shim_command(op, payload, nwait, extra, q, id, &cmd);
    if (!p) {
        if (e) { clReleaseCommandQueue(q); shim_free(e); }
        return CL_OUT_OF_RESOURCES;
    }
    if (blocking) cmd->flags |= KUMO_FPGA_BLOCKING;
    shim_put_waits(cmd, payload, nwait, waits);
    if (event) *event = e;
    *payload_out = p;
    *cmd_out = cmd;
    return CL_SUCCESS;
}

/* A blocking command is done when this returns. */
cl_int shim_finish_queued(struct kumo_fpga_cmd *cmd, cl_bool blocking)
{
    if (!blocking) return CL_SUCCESS;
    cl_int st = shim_submit(cmd);
    shim_poll_callbacks();
    return st;
}

void shim_event_learned(cl_event e, cl_int status)
{
    if (status < e->status) e->status = status;
}

static cl_int query(cl_event e, struct kumo_fpga_event_state *state)
{
    struct kumo_fpga_cmd *cmd;
    struct kumo_fpga_query *q = shim_command(KUMO_FPGA_EVENT_QUERY, sizeof *q, 0, 0, NULL, 0, &cmd);
    if (!q) return CL_OUT_OF_RESOURCES;
    q->id = e->h.id;
    q->reply = (uint64_t)(uintptr_t)state;
    q->reply_length = sizeof *state;
    cl_int st = shim_submit(cmd);
    if (st == CL_SUCCESS) shim_event_learned(e, state->status);
    return st;
}

/* Calls the callbacks whose event has reached their status. */
static void run_callbacks(cl_event e)
{
    struct shim_callback **link = &e->callbacks;
    while (*link) {
        struct shim_callback *c = *link;
        if (e->status <= c->type) {
            *link = c->next;
            c->fn(e, e->status < 0 ? e->status : c->type, c->data);
            free(c);
        } else {
            link = &c->next;
        }
    }
}

void shim_poll_callbacks(void)
{
    cl_event *link = &watched_head;
    while (*link) {
        cl_event e = *link;
        if (!e->user_set && e->queue && e->status > CL_COMPLETE) {
            struct kumo_fpga_event_state s;
            query(e, &s);
        }
        run_callbacks(e);
        if (!e->callbacks) {
            *link = e->next_watched;
            e->watched = 0;
            clReleaseEvent(e);
        } else {
            link = &e->next_watched;
        }
    }
}

CL_API_ENTRY cl_event CL_API_CALL clCreateUserEvent(cl_context context, cl_int *errcode_ret)
{
    if (!shim_valid(context, MAGIC_CONTEXT)) SHIM_ERR(CL_INVALID_CONTEXT);
    uint32_t id;
    cl_event e = shim_new_event(NULL, CL_COMMAND_USER, &id);
    if (!e) SHIM_ERR(CL_OUT_OF_HOST_MEMORY);
    e->context = context;
    e->status = CL_SUBMITTED;
    struct kumo_fpga_id *p = shim_command(KUMO_FPGA_USER_EVENT, sizeof *p, 0, 0, NULL, 0, NULL);
    if (!p) { shim_free(e); SHIM_ERR(CL_OUT_OF_RESOURCES); }
    p->id = id;
    SHIM_OK();
    return e;
}

CL_API_ENTRY cl_int CL_API_CALL clSetUserEventStatus(cl_event e, cl_int status)
{
    if (!shim_valid(e, MAGIC_EVENT) || e->type != CL_COMMAND_USER) return CL_INVALID_EVENT;
    if (status != CL_COMPLETE && status >= 0) return CL_INVALID_VALUE;
    if (e->user_set) return CL_INVALID_OPERATION;
    struct kumo_fpga_user_event *p = shim_command(KUMO_FPGA_USER_EVENT_SET, sizeof *p, 0, 0, NULL, 0, NULL);
    if (!p) return CL_OUT_OF_RESOURCES;
    p->id = e->h.id;
    p->status = status;
    e->user_set = 1;
    e->status = status;
    shim_submit(NULL);   /* commands waiting on it may start now */
    shim_poll_callbacks();
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL
clSetEventCallback(cl_event e, cl_int type, void (CL_CALLBACK *fn)(cl_event, cl_int, void *), void *data)
{
    if (!shim_valid(e, MAGIC_EVENT)) return CL_INVALID_EVENT;
    if (!fn || (type != CL_COMPLETE && type != CL_RUNNING && type != CL_SUBMITTED)) return CL_INVALID_VALUE;
    struct shim_callback *c = malloc(sizeof *c);
    if (!c) return CL_OUT_OF_HOST_MEMORY;
    *c = (struct shim_callback){ fn, data, type, e->callbacks };
    e->callbacks = c;
    if (!e->watched) {
        e->watched = 1;
        clRetainEvent(e);
        e->next_watched = watched_head;
        watched_head = e;
    }
    if (e->status <= type) shim_poll_callbacks();
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clRetainEvent(cl_event e)
{
    if (!shim_valid(e, MAGIC_EVENT)) return CL_INVALID_EVENT;
    e->h.refs++;
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clReleaseEvent(cl_event e)
{
    if (!shim_valid(e, MAGIC_EVENT)) return CL_INVALID_EVENT;
    if (--e->h.refs > 0) return CL_SUCCESS;
    struct kumo_fpga_id *p = shim_command(KUMO_FPGA_EVENT_RELEASE, sizeof *p, 0, 0, NULL, 0, NULL);
    if (p) p->id = e->h.id;
    if (e->queue) clReleaseCommandQueue(e->queue);
    shim_free(e);
    return CL_SUCCESS;
}

CL_API_ENTRY cl_int CL_API_CALL clWaitForEvents(cl_uint n, const cl_event *list)
{
    if (n == 0 || !list) return CL_INVALID_VALUE;
    sched_yield();  /* a wait: the program's other threads get a turn first */
    cl_context context = NULL;
    for (cl_uint i = 0; i < n; i++) {
        if (!shim_valid(list[i], MAGIC_EVENT)) return CL_INVALID_EVENT;
        if (context && list[i]->context != context) return CL_INVALID_CONTEXT;
        context = list[i]->context;
    }
    struct kumo_fpga_cmd *cmd;
    void *p = shim_command(KUMO_FPGA_WAIT, sizeof(struct kumo_fpga_id), n, 0, NULL, 0, &cmd);
    if (!p) return CL_OUT_OF_RESOURCES;
    shim_put_waits(cmd, sizeof(struct kumo_fpga_id), n, list);
    cl_int st = shim_submit(cmd);
    if (st == CL_SUCCESS) for (cl_uint i = 0; i < n; i++) shim_event_learned(list[i], CL_COMPLETE);
    shim_poll_callbacks();
    return st == CL_SUCCESS ? CL_SUCCESS : CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST;
}

CL_API_ENTRY cl_int CL_API_CALL
clGetEventInfo(cl_event e, cl_event_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(e, MAGIC_EVENT)) return CL_INVALID_EVENT;
    switch (param) {
    case CL_EVENT_COMMAND_QUEUE: return shim_copy_info(size, value, size_ret, &e->queue, sizeof e->queue);
    case CL_EVENT_CONTEXT: return shim_copy_info(size, value, size_ret, &e->context, sizeof e->context);
    case CL_EVENT_COMMAND_TYPE: return shim_copy_info(size, value, size_ret, &e->type, sizeof e->type);
    case CL_EVENT_REFERENCE_COUNT: return shim_copy_info(size, value, size_ret, &e->h.refs, sizeof(cl_uint));
    case CL_EVENT_COMMAND_EXECUTION_STATUS: {
        if (e->queue && e->status > CL_COMPLETE) {
            struct kumo_fpga_event_state s;
            cl_int st = query(e, &s);
            if (st != CL_SUCCESS) return st;
        }
        cl_int status = e->status;
        shim_poll_callbacks();
        return shim_copy_info(size, value, size_ret, &status, sizeof status);
    }
    default: return CL_INVALID_VALUE;
    }
}

CL_API_ENTRY cl_int CL_API_CALL
clGetEventProfilingInfo(cl_event e, cl_profiling_info param, size_t size, void *value, size_t *size_ret)
{
    if (!shim_valid(e, MAGIC_EVENT)) return CL_INVALID_EVENT;
    if (!e->queue || !(e->queue->properties & CL_QUEUE_PROFILING_ENABLE)) return CL_PROFILING_INFO_NOT_AVAILABLE;
    struct kumo_fpga_event_state s;
    cl_int st = query(e, &s);
    if (st != CL_SUCCESS) return st;
    if (s.status != CL_COMPLETE) return CL_PROFILING_INFO_NOT_AVAILABLE;
    cl_ulong t;
    switch (param) {
    case CL_PROFILING_COMMAND_QUEUED: t = s.queued; break;
    case CL_PROFILING_COMMAND_SUBMIT: t = s.submitted; break;
    case CL_PROFILING_COMMAND_START: t = s.started; break;
    case CL_PROFILING_COMMAND_END: case CL_PROFILING_COMMAND_COMPLETE: t = s.ended; break;
    default: return CL_INVALID_VALUE;
    }
    return shim_copy_info(size, value, size_ret, &t, sizeof t);
}

static cl_int marker(cl_command_queue q, cl_uint n, const cl_event *waits, cl_event *event, int barrier)
{
    void *p;
    struct kumo_fpga_cmd *cmd;
    cl_int st = shim_queued(barrier ? KUMO_FPGA_BARRIER : KUMO_FPGA_MARKER, q, barrier ? CL_COMMAND_BARRIER : CL_COMMAND_MARKER,
                            CL_FALSE, sizeof(struct kumo_fpga_id), 0, n, waits, event, &p, &cmd);
    return st;
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueMarkerWithWaitList(cl_command_queue q, cl_uint n, const cl_event *w, cl_event *e) { return marker(q, n, w, e, 0); }
CL_API_ENTRY cl_int CL_API_CALL clEnqueueBarrierWithWaitList(cl_command_queue q, cl_uint n, const cl_event *w, cl_event *e) { return marker(q, n, w, e, 1); }
CL_API_ENTRY cl_int CL_API_CALL clEnqueueMarker(cl_command_queue q, cl_event *e)
{
    if (!e) return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_VALUE : CL_INVALID_COMMAND_QUEUE;
    return marker(q, 0, NULL, e, 0);
}
CL_API_ENTRY cl_int CL_API_CALL clEnqueueBarrier(cl_command_queue q) { return marker(q, 0, NULL, NULL, 1); }
CL_API_ENTRY cl_int CL_API_CALL clEnqueueWaitForEvents(cl_command_queue q, cl_uint n, const cl_event *w)
{
    if (n == 0 || !w) return shim_valid(q, MAGIC_QUEUE) ? CL_INVALID_VALUE : CL_INVALID_COMMAND_QUEUE;
    return marker(q, n, w, NULL, 1);
}

CL_API_ENTRY cl_int CL_API_CALL clFlush(cl_command_queue q)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    if (!shim_command(KUMO_FPGA_FLUSH, sizeof(struct kumo_fpga_id), 0, 0, q, 0, NULL)) return CL_OUT_OF_RESOURCES;
    shim_submit(NULL);
    shim_poll_callbacks();
    cl_int deferred = shim_take_deferred();
    return deferred == CL_SUCCESS ? CL_SUCCESS : CL_OUT_OF_RESOURCES;
}

CL_API_ENTRY cl_int CL_API_CALL clFinish(cl_command_queue q)
{
    if (!shim_valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
    sched_yield();  /* a wait: the program's other threads get a turn first */
    struct kumo_fpga_cmd *cmd;
    if (!shim_command(KUMO_FPGA_FINISH, sizeof(struct kumo_fpga_id), 0, 0, q, 0, &cmd)) return CL_OUT_OF_RESOURCES;
    cl_int st = shim_submit(cmd);
    shim_poll_callbacks();
    cl_int deferred = shim_take_deferred();
    if (st != CL_SUCCESS || deferred != CL_SUCCESS) return CL_OUT_OF_RESOURCES;
    return CL_SUCCESS;
}
