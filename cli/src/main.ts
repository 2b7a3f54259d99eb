console.log('shoal: not yet available');
