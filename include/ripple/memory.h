// Large CPU buffers on transparent huge pages, with a bounded cache of freed buffers.
//
// LibTorch's default CPU allocator takes large buffers from glibc, which maps fresh 4 KiB
// pages for each of them: every large tensor pays one page fault per 4 KiB on first touch,
// and the kernel zeroes each page it hands out (on a 1M-node graph most of the system time
// of a training epoch), and the random row gathers of aggregation miss the TLB on almost
// every row. install_huge_page_allocator() replaces LibTorch's CPU allocator
// (c10::SetCPUAllocator) with one that serves buffers of 2 MiB and more from 2 MiB-aligned
// anonymous mappings advised MADV_HUGEPAGE, and everything smaller from the allocator it
// replaces. Where the kernel has transparent huge pages off, the advice is ignored and
// plain pages are used.
//
// Freed large buffers are kept, up to `cache_bytes` in all, and handed out again to a
// request of the same rounded size or up to a quarter smaller (the smallest that fits): a
// training loop allocates the same shapes every step, mini-batches nearly the same, and
// reuse skips the unmap, the page faults and the zeroing. Cached buffers stay resident
// (they count in RSS); the oldest are unmapped first when the cache is full, and
// release_cached_memory() unmaps all of them (benchmarks call it before measuring peak
// memory). By default the cache may hold an eighth of the memory the process may use
// (default_cached_memory_bytes(): physical memory, or the memory cgroup's limit when that
// is lower; at least 1 GiB): a GAT step on a 1M-node mini-batch frees and asks again for
// about 2 GiB of buffers. The environment variable RIPPLE_CACHED_MEMORY_MB overrides it
// (0 turns caching off).
//
// Under glibc it also keeps the smaller buffers on the heap (mallopt: no mapping of its own
// below 2 MiB, up to 64 MiB of free heap kept): the default gives the heap's top back to the
// kernel and faults it in again on nearly every step of small batches.
//
// Call install once at start-up, before any tensor exists (the `ripple` binary does);
// calling it again does nothing. Allocation failure throws c10::Error, as LibTorch's
// allocator does.
#pragma once

#include <cstddef>
#include <string>

namespace ripple {

// Physical memory, or the limit of the memory cgroup this process runs in (v1 or v2) when
// that is lower.
size_t usable_memory_bytes();

// The memory cgroup limit named by `proc_self_cgroup` (the text of /proc/self/cgroup) under
// `cgroup_root` (/sys/fs/cgroup), or 0 when there is none or it cannot be read.
size_t cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& cgroup_root);

// max(1 GiB, usable_memory_bytes() / 8).
size_t default_cached_memory_bytes();

void install_huge_page_allocator();  // with default_cached_memory_bytes()
void install_huge_page_allocator(size_t cache_bytes);

// Sets the cache's capacity (unmapping the oldest buffers beyond it); returns the old one.
size_t set_cached_memory_limit(size_t bytes);

// Unmaps every cached free buffer; returns the bytes released.
size_t release_cached_memory();

// Bytes currently held in the cache of free buffers.
size_t cached_memory_bytes();

}  // namespace ripple
