#!/usr/bin/python3
"""Reference optima of the convex lab computed with scikit-learn (Debian's python3-sklearn), for
tests/test_convex.c. Writes tests/fixtures/convex/<case>.txt:

    spec <descent problem spec>
    data <embedded set>
    standardize <0|1>
    sklearn <estimator and its parameters>
    dim <p>
    f_star <F(w*) in descent's convention, %.17g>
    grad_norm <norm of the gradient (or gradient mapping) of descent's objective at w*>
    w <w*_0>
    ...

Conventions (docs/CONVEX.md):
  logreg:l2=lam   F = (1/n) sum log(1 + exp(-y_i x_i^T w)) + (lam/2)||w||^2 ; sklearn C = 1/(n lam)
                  (LogisticRegression's objective is C sum log(...) + (1/2)||w||^2 = (1/lam) F);
                  intercept=1 <-> fit_intercept=True (unpenalized by lbfgs/newton-cg).
  ridge:l2=lam    F = (1/(2n))||Xw - y||^2 + (lam/2)||w||^2 ; sklearn Ridge alpha = n lam
                  (Ridge's objective ||y - Xw||^2 + alpha ||w||^2 = 2n F).
  lasso:l1=a      F = (1/(2n))||Xw - y||^2 + a||w||_1 ; sklearn Lasso alpha = a (same objective).
Data: the embedded sets are scikit-learn's bundled CSVs (src/data/embedded), loaded here with
sklearn.datasets; standardization is StandardScaler's (population std), as dsc_dataset_standardize.
Regression targets are the class indices (descent's convention for a classification set).

Usage: /usr/bin/python3 tools/gen_sklearn_fixtures.py [OUT_DIR]
"""
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn import datasets
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "tests", "fixtures", "convex")


def load(name, standardize):
    loader = {"breast-cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
              "iris": datasets.load_iris}[name]
    b = loader()
    X = np.asarray(b.data, dtype=np.float64)
    y = np.asarray(b.target, dtype=np.float64)
    if standardize:
        X = StandardScaler().fit_transform(X)
    return X, y


def logistic_F(X, y01, w, b, lam):
    ypm = 2.0 * y01 - 1.0
    z = ypm * (X @ w + b)
    loss = np.logaddexp(0.0, -z).mean()
    F = loss + 0.5 * lam * w @ w
    s = -ypm / (1.0 + np.exp(z))  # d/dz_i of log(1 + exp(-y z)), stable enough at these margins
    g = X.T @ s / len(y01) + lam * w
    gb = s.mean()
    return F, np.append(g, gb)


def write(case, spec, data, std, est, w, F, gn):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, case + ".txt")
    with open(path, "w") as f:
        f.write("spec %s\ndata %s\nstandardize %d\nsklearn %s (scikit-learn %s)\ndim %d\nf_star %.17g\n"
                "grad_norm %.3e\n" % (spec, data, std, est, sklearn.__version__, len(w), F, gn))
        for v in w:
            f.write("w %.17g\n" % v)
    print("%-28s F=%.17g  |grad|=%.2e  -> %s" % (case, F, gn, path))


def logreg_case(case, data, lam, intercept):
    X, y = load(data, True)
    n = X.shape[0]
    C = 1.0 / (n * lam)
    clf = LogisticRegression(C=C, fit_intercept=bool(intercept), solver="newton-cholesky", tol=1e-15, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    w = clf.coef_.ravel().astype(np.float64)
    b = float(clf.intercept_[0]) if intercept else 0.0
    F, g = logistic_F(X, y, w, b, lam)
    gn = np.linalg.norm(g if intercept else g[:-1])
    spec = "logreg:l2=%g%s" % (lam, ",intercept=1" if intercept else "")
    wout = np.append(w, b) if intercept else w
    write(case, spec, data, 1, "LogisticRegression(C=1/(n*%g), solver=newton-cholesky, tol=1e-15)" % lam, wout, F, gn)


def ridge_case(case, data, lam, intercept=0):
    X, y = load(data, True)
    n = X.shape[0]
    r = Ridge(alpha=n * lam, fit_intercept=bool(intercept), solver="cholesky")
    r.fit(X, y)
    w = r.coef_.ravel()
    b = float(r.intercept_) if intercept else 0.0
    res = X @ w + b - y
    F = 0.5 * res @ res / n + 0.5 * lam * w @ w
    g = np.append(X.T @ res / n + lam * w, res.mean() if intercept else 0.0)
    spec = "ridge:l2=%g%s" % (lam, ",intercept=1" if intercept else "")
    write(case, spec, data, 1, "Ridge(alpha=n*%g, solver=cholesky)" % lam, np.append(w, b) if intercept else w, F,
          np.linalg.norm(g))


def softmax_case(case, data, lam):
    X, y = load(data, True)
    n = X.shape[0]
    K = int(y.max()) + 1
    c = LogisticRegression(C=1.0 / (n * lam), fit_intercept=False, solver="newton-cg", tol=1e-15, max_iter=100000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.fit(X, y)
    W = c.coef_.T  # descent's layout: d x K row-major
    Z = X @ W
    Zs = Z - Z.max(1, keepdims=True)
    P = np.exp(Zs)
    P /= P.sum(1, keepdims=True)
    yi = y.astype(int)
    F = np.mean(np.log(np.exp(Zs).sum(1)) + Z.max(1) - Z[np.arange(n), yi]) + 0.5 * lam * (W ** 2).sum()
    G = X.T @ (P - np.eye(K)[yi]) / n + lam * W
    write(case, "softmax:l2=%g" % lam, data, 1,
          "LogisticRegression(multinomial, C=1/(n*%g), solver=newton-cg, tol=1e-15)" % lam, W.ravel(), F,
          np.linalg.norm(G))


def lasso_case(case, data, alpha, intercept=0):
    X, y = load(data, True)
    n = X.shape[0]
    # with an intercept, sklearn centres X and y: the same as an unpenalized intercept
    m = Lasso(alpha=alpha, fit_intercept=bool(intercept), tol=1e-15, max_iter=10000000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(X, y)
    w = m.coef_.ravel()
    b = float(m.intercept_) if intercept else 0.0
    res = X @ w + b - y
    F = 0.5 * res @ res / n + alpha * np.abs(w).sum()
    # gradient mapping with t = 1/L
    L = np.linalg.eigvalsh(X.T @ X / n).max()
    g = X.T @ res / n
    u = w - g / L
    u = np.sign(u) * np.maximum(np.abs(u) - alpha / L, 0.0)
    gm = np.linalg.norm((w - u) * L)
    if intercept:
        gm = np.hypot(gm, res.mean())
    spec = "lasso:l1=%g%s" % (alpha, ",intercept=1" if intercept else "")
    write(case, spec, data, 1, "Lasso(alpha=%g, tol=1e-15, cd)" % alpha, np.append(w, b) if intercept else w, F, gm)


def main():
    logreg_case("logreg_bc", "breast-cancer", 1e-2, 0)
    logreg_case("logreg_bc_intercept", "breast-cancer", 1e-2, 1)
    ridge_case("ridge_wine", "wine", 1e-2)
    ridge_case("ridge_wine_intercept", "wine", 1e-2, 1)
    lasso_case("lasso_wine", "wine", 2e-2)
    lasso_case("lasso_wine_intercept", "wine", 5e-2, 1)
    softmax_case("softmax_wine", "wine", 3e-2)


if __name__ == "__main__":
    main()
