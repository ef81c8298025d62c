// The sum over a workgroup of 64: each invocation puts its part in `part[lid]`, calls
// workgroupBarrier(), then reduce(lid) returns the total to every invocation. Prepended to the
// kernels that normalise (layer_norm.wgsl, group_norm.wgsl).

var<workgroup> part: array<f32, 64>;

fn reduce(lid: u32) -> f32 {
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid < s) {
            part[lid] += part[lid + s];
        }
        workgroupBarrier();
    }
    let total = part[0];
    workgroupBarrier();
    return total;
}
