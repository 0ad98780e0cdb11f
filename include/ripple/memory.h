// Large CPU buffers on transparent huge pages.
//
// LibTorch's default CPU allocator takes large buffers from glibc, which maps fresh 4 KiB
// pages for each of them: every large tensor pays one page fault per 4 KiB on first touch
// (on a 1M-node graph most of the system time of a training epoch), and the random row
// gathers of aggregation miss the TLB on almost every row. install_huge_page_allocator()
// replaces LibTorch's CPU allocator (c10::SetCPUAllocator) with one that serves buffers of
// 2 MiB and more from 2 MiB-aligned anonymous mappings advised MADV_HUGEPAGE, and everything
// smaller from the allocator it replaces. Where the kernel has transparent huge pages off,
// the advice is ignored and plain pages are used. Call it once at start-up, before any
// tensor exists (the `ripple` binary does); calling it again does nothing. Allocation
// failure throws c10::Error, as LibTorch's allocator does.
#pragma once

namespace ripple {

void install_huge_page_allocator();

}  // namespace ripple
