import sys, glob, cv2, numpy as np
sys.path.insert(0,'.')
import nanotrack_ort_port as P, opencv_nanotrack as ref
cv2.setNumThreads(1)
seq='../../../shared/data/sequences/OTB_FaceOcc1'; model='../../../shared/models/nanotrack-v2'
box=ref.first_box(seq); ob,_=ref.run_opencv(seq,model,box)
frames=[cv2.imread(f) for f in sorted(glob.glob(seq+'/img/*'))]
for seed in range(5):
    rng=np.random.default_rng(seed)
    port=P.Port(model); orig=port.features
    port.features=lambda p, o=orig: (lambda f: f*(1+1e-6*rng.standard_normal(f.shape)).astype(np.float32))(o(p))
    pb=[box]
    for i,img in enumerate(frames):
        if i==0: port.init(img,box)
        else: pb.append(port.update(img))
    ious=[ref.iou(a,b) for a,b in zip(ob,pb)]
    first=next((i for i,(a,b) in enumerate(zip(ob,pb)) if list(a)!=list(b)),None)
    print('seed',seed,'mean IoU %.4f'%np.mean(ious),'>=0.9 %.3f'%np.mean([v>=0.9 for v in ious]),'first diff',first)
