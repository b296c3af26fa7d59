/* The command batch: calls that need no answer are appended here and cost
 * no VM exit; the doorbell (one exit) hands the whole batch to the device
 * model only where the program must wait or learn something. */
#include "shim.h"
#include "kumo_abi.h"

void kumo_hypercall(enum kumo_hypercall nr, void *arg);

#define BATCH_BYTES (1u << 20)
static unsigned char batch[BATCH_BYTES] __attribute__((aligned(64)));
static size_t used;
static uint32_t count;
static cl_int deferred;   /* a batched command's failure, reported at the next clFinish/clFlush */

void *shim_command(uint16_t op, size_t payload, cl_uint nwait, size_t extra, cl_command_queue q, uint32_t event,
                   struct kumo_fpga_cmd **cmd_out)
{
    size_t waits = ((size_t)nwait * 4 + 7) & ~(size_t)7;
    size_t size = (sizeof(struct kumo_fpga_cmd) + payload + waits + extra + 7) & ~(size_t)7;
    if (size > BATCH_BYTES) return NULL;
    if (used + size > BATCH_BYTES) shim_submit(NULL);
    struct kumo_fpga_cmd *cmd = (struct kumo_fpga_cmd *)(batch + used);
    memset(cmd, 0, size);
    cmd->op = op;
    cmd->size = (uint32_t)size;
    cmd->queue = q ? q->h.id : 0;
    cmd->event = event;
    cmd->nwait = nwait;
    used += size;
    count++;
    if (cmd_out) *cmd_out = cmd;
    return cmd + 1;
}

void shim_put_waits(struct kumo_fpga_cmd *cmd, size_t payload, cl_uint n, const cl_event *list)
{
    uint32_t *ids = (uint32_t *)((unsigned char *)(cmd + 1) + payload);
    for (cl_uint i = 0; i < n; i++) ids[i] = list[i]->h.id;
}

/* Rings the doorbell for everything batched; returns `waited`'s own status. */
cl_int shim_submit(struct kumo_fpga_cmd *waited)
{
    if (count == 0) return CL_SUCCESS;
    struct kumo_hc_fpga call = { .batch = (uint64_t)(uintptr_t)batch, .bytes = (uint32_t)used, .count = count };
    kumo_hypercall(KUMO_HC_FPGA, &call);
    cl_int own = waited ? waited->status : CL_SUCCESS;
    if (call.status != CL_SUCCESS) {
        int any = 0;
        for (size_t at = 0; at < used;) {
            struct kumo_fpga_cmd *c = (struct kumo_fpga_cmd *)(batch + at);
            if (c->status != CL_SUCCESS) {
                any = 1;
                if (c != waited && deferred == CL_SUCCESS) deferred = c->status;
            }
            at += c->size;
        }
        if (!any) {   /* the batch itself was refused (no FPGA attached) */
            if (waited) own = call.status;
            else if (deferred == CL_SUCCESS) deferred = call.status;
        }
    }
    used = 0;
    count = 0;
    return own;
}

cl_int shim_take_deferred(void)
{
    cl_int e = deferred;
    deferred = CL_SUCCESS;
    return e;
}
