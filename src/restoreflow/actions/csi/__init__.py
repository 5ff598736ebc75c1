"""The CSI restore item actions (Velero's `velero.io/csi-*`): claims, snapshots, classes and contents."""
