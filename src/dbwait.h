/*
 * How a database connection waits for its server: Connector/C's wait
 * (MARIADB_OPT_IO_WAIT), with the read timeout kept by a watchdog thread
 * instead of a kernel timer per wait.
 *
 * Connector/C reads with MSG_DONTWAIT and, when the answer has not come
 * yet, waits for the socket and reads again: about 20 waits per checkout
 * at 16 clients, 35 at one. Its own wait is a poll() with the read
 * timeout, and a poll with a timeout arms and cancels a high-resolution
 * timer each time: about 30 us of kernel time per checkout, most of the
 * kernel time checkoutd spent above 28f487d's, which set no read timeout
 * and so polled without one (docs/performance.md, round 17). Here a read waits
 * in poll() without a timeout, after noting its socket and deadline where
 * the watchdog looks (a coarse clock read and two atomic stores); the
 * watchdog wakes every 50 ms and shuts down the socket of a wait past its
 * deadline, which ends the poll, and the wait then reports ETIMEDOUT, as
 * Connector/C's own does (db_fail and the connect tell a hung server by
 * it). The connection is dropped after a timeout anyway. A wait so ends
 * 0 to 60 ms after its timeout.
 *
 * Writes (a full send buffer, rare) and a TCP connect in progress wait as
 * Connector/C does: poll() with the timeout.
 */
#ifndef CHECKOUTD_DBWAIT_H
#define CHECKOUTD_DBWAIT_H

#include <mysql.h>

/*
 * Waits until fd can be read (is_read) or written, at most timeout_ms
 * milliseconds (0 or less: no limit). Returns 1 when it can (or has an
 * error or the end to read), 0 on the timeout with errno ETIMEDOUT, -1
 * with errno on an error. Safe from any thread; the first wait with a
 * timeout starts the watchdog thread (one per process; when it cannot,
 * and in a child forked after, the wait polls with the timeout).
 */
int dbwait_io(my_socket fd, my_bool is_read, int timeout_ms);

#endif
