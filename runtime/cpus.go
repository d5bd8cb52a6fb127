package runtime

import "fmt"

// loopCPUs returns the CPUs loops are placed on: Options.CPUs, checked against the
// affinity mask, or the mask itself.
func loopCPUs(o Options) ([]int, error) {
	mask, err := affinityCPUs()
	if err != nil {
		return nil, err
	}
	if len(o.CPUs) == 0 {
		return mask, nil
	}
	allowed := make(map[int]bool, len(mask))
	for _, c := range mask {
		allowed[c] = true
	}
	for _, c := range o.CPUs {
		if !allowed[c] {
			return nil, fmt.Errorf("zokio/runtime: CPU %d is not in this process's affinity mask %v", c, mask)
		}
	}
	return o.CPUs, nil
}
