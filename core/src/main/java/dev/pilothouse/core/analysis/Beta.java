package dev.pilothouse.core.analysis;

/**
 * The beta function and the regularized incomplete beta function, for the sequential tests (core
 * depends on the JDK only; the test checks these against Apache Commons Math).
 */
final class Beta {
  private Beta() {}

  private static final double[] LANCZOS = {
    0.99999999999999709182,
    57.156235665862923517,
    -59.597960355475491248,
    14.136097974741747174,
    -0.49191381609762019978,
    .33994649984811888699e-4,
    .46523628927048575665e-4,
    -.98374475304879564677e-4,
    .15808870322491248884e-3,
    -.21026444172410488319e-3,
    .21743961811521264320e-3,
    -.16431810653676389022e-3,
    .84418223983852743293e-4,
    -.26190838401581408670e-4,
    .36899182659531622704e-5,
  };
  private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

  /** log Γ(x) for x > 0 (Lanczos, g = 607/128; relative error about 1e-15). */
  static double logGamma(double x) {
    if (!(x > 0)) {
      throw new IllegalArgumentException("x must be > 0, but was " + x);
    }
    if (x < 0.5) {
      return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
    }
    double g = 607.0 / 128.0;
    double sum = LANCZOS[0];
    for (int i = LANCZOS.length - 1; i > 0; i--) {
      sum += LANCZOS[i] / (x - 1 + i);
    }
    double t = x - 0.5 + g;
    return HALF_LOG_2PI + (x - 0.5) * Math.log(t) - t + Math.log(sum);
  }

  /** log B(a, b). */
  static double logBeta(double a, double b) {
    return logGamma(a) + logGamma(b) - logGamma(a + b);
  }

  /**
   * I_x(a, b), the regularized incomplete beta function, by the continued fraction (modified
   * Lentz), using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where it converges faster.
   */
  static double regularized(double x, double a, double b) {
    if (x <= 0) {
      return 0;
    }
    if (x >= 1) {
      return 1;
    }
    if (x > (a + 1) / (a + b + 2)) {
      return 1 - regularized(1 - x, b, a);
    }
    double logFront = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b) - Math.log(a);
    return Math.exp(logFront) * continuedFraction(x, a, b);
  }

  private static double continuedFraction(double x, double a, double b) {
    final double tiny = 1e-300;
    double c = 1;
    double d = 1 - (a + b) * x / (a + 1);
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    double f = d;
    for (int m = 1; m < 100_000; m++) {
      double numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
      d = 1 + numerator * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + numerator / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      f *= d * c;
      numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1 + numerator * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + numerator / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double delta = d * c;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-15) {
        return f;
      }
    }
    return f; // converged to double precision long before for any count we see
  }
}
