/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tc datapath under BPF_PROG_TEST_RUN, shared by test_tc_packet,
 * test_tc_flow, test_tc_deny, test_tc_output and test_tc_verdict. Each test (criterion forks
 * one process per test) opens its own datapath in its own network namespace
 * with dp_up*(), so maps and flows never leak between tests, and closes it
 * with dp_down(). Test-run packets arrive on the namespace's lo (ifindex 1).
 * The helpers assert: a failure ends the test where it happened.
 */
#ifndef MESHMON_TEST_TC_TESTRUN_H
#define MESHMON_TEST_TC_TESTRUN_H

#include <stddef.h>
#include <stdint.h>

#include "datapath.h"
#include "harness.h"

#define LO_IFINDEX   1
#define RING_WAIT_MS 300
#define MS	     1000000ull

/* Canned packet specs: two IPv4 / IPv6 hosts, a TCP segment of 100 bytes. */
#define V4 .family = 4, .src = "10.1.0.1", .dst = "10.2.0.2"
#define V6 .family = 6, .src = "fd00:1::1", .dst = "fd00:2::2"
#define TCP(f)                                                                                     \
	.proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcp_flags = (f), .payload_len = 100

/* The datapath of the current test, its ring and its tc programs. */
extern struct mm_datapath *dp;
extern struct mm_test_ring *ring;
extern int fd_in, fd_eg;

/* Pin to CPU 0, enter a private netns, open the datapath and its ring. */
void dp_up(const struct mm_config *cfg);
void dp_up_default(void);
void dp_down(void);
/* Read the configuration, let edit change it, write it back. */
void set_cfg(void (*edit)(struct mm_config *));

/* Build a frame (asserting it fits) and return its length. */
size_t build(uint8_t *buf, size_t cap, const struct mm_test_pkt_spec *s);
/* Run s through the program fd; the frame and its length are returned when asked. */
int run(int fd, const struct mm_test_pkt_spec *s, uint8_t *frame, size_t *len);
/* A packet of family/proto from src to dst port dport (TCP SYN, ICMP echo). */
int run_to(int fd, int family, const char *src, const char *dst, __u8 proto, __u16 dport);
/* Collect one record more than expected, so that extra records are seen too. */
size_t collect_exact(size_t want);

/* Records copied out of the ring, their length checked. */
void trace_of(const struct mm_test_record *r, struct mm_trace_record *t);
void drop_of(const struct mm_test_record *r, struct mm_drop_record *d);
void debug_of(const struct mm_test_record *r, struct mm_debug_record *d);
void verdict_of(const struct mm_test_record *r, struct mm_policy_verdict_record *v);
/* The captured bytes of record r (after a fixed part of fixed_size) equal the frame's first. */
void assert_capture(const struct mm_test_record *r, size_t fixed_size, const uint8_t *frame,
		    size_t cap_len);

__u64 stat_of(unsigned int s);
/* The tc program's counter of direction dir (at its point, MM_TC_POINT) and reason. */
struct mm_traffic_counter traffic_of(unsigned int dir, unsigned int reason);
void addr_of(int family, const char *text, __u32 out[4]);

/* Replace the deny rules: rule i gets id (i + 1) * 10. */
void deny(const char *const *texts, size_t n);

void sleep_ms(long ms);

#endif /* MESHMON_TEST_TC_TESTRUN_H */
