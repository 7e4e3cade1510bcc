package dev.pilothouse.e2e;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an end-to-end class whose measurements the docs quote (docs/performance.md,
 * docs/scale-out.md): its daemons run with exactly the JVM options users get. Other classes run
 * their daemons without the optimising compiler ({@link Harness#TEST_DAEMON_OPTIONS}): the same
 * code and behaviour, less CPU spent compiling in daemons that live for seconds.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@interface QuotedFigures {}
