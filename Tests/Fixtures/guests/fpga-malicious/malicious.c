/* A guest that skips the OpenCL library and rings the FPGA doorbell with
 * hostile batches. Every one must fail with an OpenCL status, and the FPGA
 * must still work afterwards. Prints "name status" per attack. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "kumo_abi.h"
#include "kumo_fpga.h"

void kumo_hypercall(enum kumo_hypercall nr, void *arg);

static uint64_t batch[4096];

static struct kumo_hc_fpga ring(const void *commands, uint32_t bytes, uint32_t count)
{
    struct kumo_hc_fpga call = { (uint64_t)(uintptr_t)commands, bytes, count, 0, 0 };
    kumo_hypercall(KUMO_HC_FPGA, &call);
    return call;
}

/* One command with a payload of `payload` bytes. */
static struct kumo_hc_fpga one(uint16_t op, const void *payload, uint32_t payload_size, uint32_t queue)
{
    struct kumo_fpga_cmd *cmd = (struct kumo_fpga_cmd *)batch;
    memset(batch, 0, sizeof batch);
    cmd->op = op;
    cmd->size = (uint32_t)((sizeof *cmd + payload_size + 7) & ~7u);
    cmd->queue = queue;
    memcpy(cmd + 1, payload, payload_size);
    return ring(batch, cmd->size, 1);
}

int main(void)
{
    struct kumo_fpga_cmd *cmd = (struct kumo_fpga_cmd *)batch;
    struct kumo_hc_fpga r;

    r = ring((void *)(uintptr_t)0x7fff0000000ull, 64, 1);
    printf("batch-outside-memory %d\n", r.status);
    r = ring((void *)(uintptr_t)0x1000, 64, 1);
    printf("batch-on-page-tables %d\n", r.status);

    memset(batch, 0, sizeof batch);
    cmd->op = 999; cmd->size = 24;
    r = ring(batch, 24, 1);
    printf("unknown-op %d\n", r.status);
    cmd->op = KUMO_FPGA_FINISH; cmd->size = 0;
    r = ring(batch, 24, 1);
    printf("size-zero %d\n", r.status);
    cmd->size = 0xFFFFFFF8u;
    r = ring(batch, 24, 1);
    printf("size-past-batch %d\n", r.status);
    cmd->size = 24;
    r = ring(batch, 24, 1000);
    printf("count-past-batch %d\n", r.status);

    struct kumo_fpga_queue q = { 1, 0 };
    printf("queue %d\n", one(KUMO_FPGA_QUEUE_CREATE, &q, sizeof q, 0).status);
    printf("queue-again %d\n", one(KUMO_FPGA_QUEUE_CREATE, &q, sizeof q, 0).status);
    struct kumo_fpga_mem huge = { 1, KUMO_FPGA_MEM_READ | KUMO_FPGA_MEM_WRITE, 0, 0, 0, 1ull << 60 };
    printf("alloc-absurd %d\n", one(KUMO_FPGA_MEM_ALLOC, &huge, sizeof huge, 0).status);
    struct kumo_fpga_mem m = { 1, KUMO_FPGA_MEM_READ | KUMO_FPGA_MEM_WRITE, 0, 0, 0, 4096 };
    printf("alloc %d\n", one(KUMO_FPGA_MEM_ALLOC, &m, sizeof m, 0).status);
    struct kumo_fpga_transfer t = { 1, 0, 0, 64, 0x7fff0000000ull };
    printf("write-from-outside %d\n", one(KUMO_FPGA_WRITE, &t, sizeof t, 1).status);
    t.guest = 0x2000;
    printf("read-into-page-tables %d\n", one(KUMO_FPGA_READ, &t, sizeof t, 1).status);
    t.guest = (uint64_t)(uintptr_t)(batch + 2048);
    t.size = 1ull << 62;
    printf("read-absurd-size %d\n", one(KUMO_FPGA_READ, &t, sizeof t, 1).status);
    t.offset = 4090; t.size = 64;
    printf("read-past-buffer %d\n", one(KUMO_FPGA_READ, &t, sizeof t, 1).status);
    t.offset = 0;
    t.mem = 77;
    printf("read-unknown-buffer %d\n", one(KUMO_FPGA_READ, &t, sizeof t, 1).status);
    t.mem = 1;
    printf("read-bad-queue %d\n", one(KUMO_FPGA_READ, &t, sizeof t, 9).status);
    struct kumo_fpga_execute e = { 5, 1, { 0 }, { 1 }, { 0 }, 0, 0 };
    printf("execute-unknown-kernel %d\n", one(KUMO_FPGA_EXECUTE, &e, sizeof e, 1).status);
    struct kumo_fpga_program p = { 3, 0, (uint64_t)(uintptr_t)batch, 1ull << 40, 0, 0 };
    printf("configure-absurd %d\n", one(KUMO_FPGA_CONFIGURE, &p, sizeof p, 0).status);
    p.length = 512;
    printf("configure-garbage %d\n", one(KUMO_FPGA_CONFIGURE, &p, sizeof p, 0).status);
    struct kumo_fpga_id id = { 1, 0 };
    printf("release %d\n", one(KUMO_FPGA_MEM_RELEASE, &id, sizeof id, 0).status);
    printf("release-again %d\n", one(KUMO_FPGA_MEM_RELEASE, &id, sizeof id, 0).status);
    printf("read-released %d\n", one(KUMO_FPGA_READ, &t, sizeof t, 1).status);

    /* The FPGA still works: a buffer, a fill, a read back. */
    m.id = 2;
    one(KUMO_FPGA_MEM_ALLOC, &m, sizeof m, 0);
    struct kumo_fpga_fill f = { 2, 4, 0, 4096, { 0 } };
    uint32_t pattern = 0x5a5a5a5a;
    memcpy(f.pattern, &pattern, 4);
    one(KUMO_FPGA_FILL, &f, sizeof f, 1);
    static uint32_t back[1024];
    struct kumo_fpga_transfer rd = { 2, 0, 0, sizeof back, (uint64_t)(uintptr_t)back };
    memset(batch, 0, sizeof batch);
    cmd->op = KUMO_FPGA_READ;
    cmd->flags = KUMO_FPGA_BLOCKING;
    cmd->size = sizeof *cmd + sizeof rd;
    cmd->queue = 1;
    memcpy(cmd + 1, &rd, sizeof rd);
    r = ring(batch, cmd->size, 1);
    printf("still-works %d %s\n", r.status, back[0] == pattern && back[1023] == pattern ? "pattern-read-back" : "WRONG");
    return 0;
}
