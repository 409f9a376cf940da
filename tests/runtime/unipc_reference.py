# The reference values of tests/runtime/sampler_test.cpp (FlowSamplers.GaussianData…): Wan2.1's
# FlowUniPCMultistepScheduler (order 2, bh2, predict-x0, lower_order_final) in its general form — nodes r_k, the
# matrix R and vector b, rho from numpy.linalg.solve — and Euler, on the Gaussian-data velocity field.
# Written for svdit from the algorithm's description; run: python3 tests/runtime/unipc_reference.py
import numpy as np
def sched(N, shift):
    s = np.linspace(0.999, 0, N+1)[:-1]
    s = shift*s/(1+(shift-1)*s)
    return np.concatenate([s,[0.0]])
def unipc(N, shift, x, field):
    sig = sched(N, shift)
    lam = lambda i: np.log(1-sig[i]) - np.log(sig[i]) if sig[i] > 0 else np.inf
    outs=[None,None]; last=None; lower=0; this_order=None
    for k in range(N):
        v = field(x, sig[k])
        m = x - sig[k]*v
        if k>0 and last is not None:
            # corrector
            order=this_order; m0=outs[-1]; xs=last
            st, s0 = sig[k], sig[k-1]; at=1-st
            h = lam(k)-lam(k-1); rks=[]; D1s=[]
            for i in range(1,order):
                si=k-(i+1); mi=outs[-(i+1)]; rk=(lam(si)-lam(k-1))/h; rks.append(rk); D1s.append((mi-m0)/rk)
            rks.append(1.0); rks=np.array(rks)
            hh=-h; hphi1=np.expm1(hh); hphik=hphi1/hh-1; fac=1; Bh=np.expm1(hh); R=[]; b=[]
            for i in range(1,order+1):
                R.append(rks**(i-1)); b.append(hphik*fac/Bh); fac*=i+1; hphik=hphik/hh-1/fac
            R=np.stack(R); b=np.array(b)
            rhos = np.array([0.5]) if order==1 else np.linalg.solve(R,b)
            xt_ = st/s0*xs - at*hphi1*m0
            corr = sum(rhos[j]*D1s[j] for j in range(len(D1s))) if D1s else 0
            x = xt_ - at*Bh*(corr + rhos[-1]*(m-m0))
        outs=[outs[1], m]
        o=min(2, N-k); this_order=min(o, lower+1)
        last=x
        # predictor
        order=this_order; m0=outs[-1]
        st, s0 = sig[k+1], sig[k]; at=1-st
        h = lam(k+1)-lam(k); rks=[]; D1s=[]
        for i in range(1,order):
            si=k-i; mi=outs[-(i+1)]; rk=(lam(si)-lam(k))/h; rks.append(rk); D1s.append((mi-m0)/rk)
        rks.append(1.0)
        hh=-h; hphi1=np.expm1(hh); Bh=np.expm1(hh)
        xt_ = st/s0*x - at*hphi1*m0
        pred = 0.5*D1s[0] if D1s else 0
        x = xt_ - at*Bh*pred
        lower=min(lower+1,2)
    return x
def euler(N, shift, x, field):
    sig=sched(N,shift)
    for k in range(N): x = x + (sig[k+1]-sig[k])*field(x, sig[k])
    return x
mu, s = 0.7, 0.3
def field(x, sg):
    a=1-sg; x0=mu + a*s*s/(a*a*s*s+sg*sg)*(x-a*mu); return (x-x0)/sg
eps=np.linspace(-2,2,64)
exact = mu + s*eps
for N in [10,40]:
    print(N, "steps: euler", repr(float(euler(N,3.0,eps,field)[5])), "unipc", repr(float(unipc(N,3.0,eps,field)[5])))
